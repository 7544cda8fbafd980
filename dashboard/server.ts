import type { FastifyInstance } from 'fastify';
import { MicrogridError } from '../core/errors.js';

/** Starts listening; turns "port taken" into an error that says what to do. */
export async function listen(app: FastifyInstance, host: string, port: number): Promise<string> {
  try {
    await app.listen({ host, port });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new MicrogridError('PORT_IN_USE', `port ${port} on ${host} is already in use`, {
        field: '--port',
        value: port,
        expected: 'a free port (pass --port N, or --port 0 for any free port)',
        cause,
      });
    }
    throw cause;
  }
  const addr = app.server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  return `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
}

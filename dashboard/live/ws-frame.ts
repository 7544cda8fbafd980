/**
 * One unmasked, final WebSocket text frame (RFC 6455 §5.2) holding `payload`
 * (UTF-8 JSON). The stream builds it once per frame and view and writes the
 * same bytes to every client's socket, instead of ws framing (header, cork,
 * writev) per client. Server frames are never masked; RSV1 stays 0, so the
 * frame is valid with or without a negotiated permessage-deflate (a message
 * may always go uncompressed).
 */
export function textFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const headerLength = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(headerLength + n);
  out[0] = 0x81; // FIN + opcode 1 (text)
  if (n < 126) {
    out[1] = n;
  } else if (n < 65_536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    // 64-bit length; a frame of 4 GiB or more is not something the stream makes.
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  payload.copy(out, headerLength);
  return out;
}

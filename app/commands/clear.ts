import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from './command.js';
import { loadConfig } from '../load-config.js';
import { validateConfig } from '../../core/config/validate.js';
import { MECHANISMS, type Mechanism } from '../../core/config/schema.js';
import { MicrogridError, invalid } from '../../core/errors.js';
import { canonicalJson } from '../../core/canonical-json.js';
import type { ClearingResult } from '../../core/market.js';
import { clearBook, type BookInput } from '../../matching-engine/clear.js';
import { rulesFromConfig } from '../../matching-engine/rules.js';
import { intervalMoney } from '../../matching-engine/money.js';

/**
 * `mgx clear --book book.json`: clears one interval's order book offline and
 * prints the ClearingResult (canonical JSON, byte for byte what the ledger
 * stores) or a readable table. Rules: the schema's defaults, or the market
 * section of --config, then --mechanism and --k on top. The book format is in
 * docs/matching-engine.md.
 */
export const clearCommand: Command = {
  name: 'clear',
  summary: 'clear an order book file with the matching engine and print the result',
  usage: `      --book FILE      order book JSON: { "interval": "...Z", "orders": [ ... ] } (docs/matching-engine.md)
      --mechanism M    uniform, pay-as-bid, pay-as-offer or mcafee (default: market.mechanism, uniform)
      --k K            k of the k-double auction, 0 to 1 (default: market.k, 0.5)
      --format F       json (default, canonical) or table`,
  options: {
    book: { type: 'string' },
    mechanism: { type: 'string' },
    k: { type: 'string' },
    format: { type: 'string' },
  },
  async run(ctx) {
    const bookPath = ctx.values.book;
    if (typeof bookPath !== 'string') throw invalid('USAGE', '--book', bookPath, 'the path of an order book JSON file');
    const format = ctx.values.format ?? 'json';
    if (format !== 'json' && format !== 'table') throw invalid('USAGE', '--format', format, 'json or table');
    const mechanism = ctx.values.mechanism;
    if (mechanism !== undefined && !(MECHANISMS as readonly unknown[]).includes(mechanism))
      throw invalid('USAGE', '--mechanism', mechanism, `one of ${MECHANISMS.join(', ')}`);
    const kArg = ctx.values.k;
    let k: number | undefined;
    if (kArg !== undefined) {
      k = Number(kArg);
      if (typeof kArg !== 'string' || !/^(0|1|0?\.\d+|1\.0*)$/.test(kArg) || k < 0 || k > 1)
        throw invalid('USAGE', '--k', kArg, 'a number from 0 to 1, such as 0.5');
    }

    const cfgPath = ctx.values.config;
    const market =
      typeof cfgPath === 'string'
        ? loadConfig({ path: cfgPath, env: ctx.env, cwd: ctx.cwd }).config.market
        : validateConfig({}, 'defaults').market;
    const rules = rulesFromConfig(market);
    if (mechanism !== undefined) rules.mechanism = mechanism as Mechanism;
    if (k !== undefined) rules.k = k;

    const result = clearBook(readBook(resolve(ctx.cwd, bookPath)), rules);
    ctx.stdout.write(format === 'json' ? `${canonicalJson(result)}\n` : table(result));
    return 0;
  },
};

function readBook(file: string): BookInput {
  if (!existsSync(file)) throw invalid('INVALID_INPUT', '--book', file, 'an existing order book JSON file');
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new MicrogridError('INVALID_INPUT', `the book file is not valid JSON (${(err as Error).message})`, {
      field: '--book',
      value: file,
      expected: 'a JSON object { "interval": ..., "orders": [ ... ] }',
    });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw invalid('INVALID_INPUT', 'book', data, 'a JSON object { "interval": ..., "orders": [ ... ] }');
  const b = data as Record<string, unknown>;
  for (const key of Object.keys(b))
    if (!['interval', 'kind', 'orders'].includes(key))
      throw invalid('INVALID_INPUT', `book.${key}`, b[key], 'no other keys than interval, kind and orders');
  if (!Array.isArray(b.orders)) throw invalid('INVALID_INPUT', 'orders', b.orders, 'a list of orders');
  return b as unknown as BookInput;
}

function table(r: ClearingResult): string {
  const m = intervalMoney(r);
  const lines = [
    `interval ${r.interval} (${r.kind}), mechanism ${r.rules.mechanism}${r.rules.mechanism === 'uniform' ? `, k ${r.rules.k}` : ''}${r.mcafee ? ` (${r.mcafee})` : ''}`,
    `clearing price ${r.clearingPrice ?? '—'}   matched ${r.matchedWh} Wh   surplus ${r.surplus}`,
  ];
  if (r.zonePrices)
    for (const z of r.zonePrices)
      lines.push(`  zone ${z.zone}: sellers ${z.sellerPrice}, buyers up to ${z.buyerPrice}`);
  lines.push(
    '',
    `${'buyer order'.padEnd(20)} ${'seller order'.padEnd(20)} ${'Wh'.padStart(10)} ${'price'.padStart(10)} ${'fee'.padStart(8)}`,
  );
  for (const t of r.trades) {
    lines.push(
      `${t.buyOrder.padEnd(20)} ${t.sellOrder.padEnd(20)} ${String(t.energyWh).padStart(10)} ${t.price.padStart(10)} ${t.fee.padStart(8)}${t.buyerPrice ? `  buyer pays ${t.buyerPrice}` : ''}`,
    );
  }
  if (r.trades.length === 0) lines.push('(no trades)');
  lines.push(
    '',
    `buyers pay ${m.buyersPay} = sellers receive ${m.sellersReceive} + fees ${m.fees}${r.rules.mechanism === 'mcafee' ? ` + operator ${m.operator}` : ''}`,
  );
  const left = r.remainders.filter((x) => x.leftWh > 0);
  lines.push(`left to the grid: ${left.length} orders, ${left.reduce((s, x) => s + x.leftWh, 0)} Wh`);
  return `${lines.join('\n')}\n`;
}

// The matching engine's public surface. Pure: no I/O, no clock, no randomness, no logging.
export { clearBook, type BookInput } from './clear.js';
export { OrderBook } from './book.js';
export { rulesFromConfig, compileRules, RULE_SET_VERSION } from './rules.js';
export { intervalMoney, tradeMoney, type IntervalMoney } from './money.js';
export { screenOrders, type ExcludedOrder, type ScreenedBook } from './screen.js';

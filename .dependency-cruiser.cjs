// Which room may import which (ARCHITECTURE.md's room table), checked in
// `npm test` by `depcruise --config .dependency-cruiser.cjs .`. A path is a
// room by its first folder, so nested files (bench/, routes/, chain/) obey
// their room's rule.

/** room → the rooms of ours it may import (besides itself). */
const MAY_IMPORT = {
  core: [],
  'matching-engine': ['core'],
  'meter-bridge': ['core'],
  ledger: ['core'],
  contracts: ['core'],
  settlement: ['core', 'ledger', 'matching-engine', 'contracts'],
  audit: ['core', 'ledger', 'matching-engine', 'settlement', 'contracts'],
  dashboard: ['core', 'ledger'],
};
/** Rooms that import everything: the composition root and the tooling around it. */
const EVERYTHING = ['app', 'test', 'scripts'];
const ROOMS = [...Object.keys(MAY_IMPORT), ...EVERYTHING];
/** Edges only the composition root (and tests) put together. */
const ONLY_APP_IMPORTS = ['audit', 'dashboard', 'meter-bridge'];
/**
 * Settlement's parts that talk to the chain as a sender (sign, submit, deploy).
 * The audit reads evidence and must not reach them.
 */
const SETTLEMENT_SENDS = [
  'settlement/submitter',
  'settlement/transactions',
  'settlement/receipts',
  'settlement/journal-writes',
  'settlement/chain/deploy-or-load',
];

const any = (paths) => `^(${paths.join('|')})(/|\\.|$)`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle ties two modules into one: neither can be read, tested or moved alone.',
      from: {},
      to: { circular: true },
    },
    ...Object.entries(MAY_IMPORT).map(([room, may]) => ({
      name: `room-${room}`,
      severity: 'error',
      comment: `${room}/ may import ${may.length ? may.map((r) => `${r}/`).join(', ') : 'nothing of ours'}.`,
      from: { path: `^${room}/` },
      to: { path: any(ROOMS.filter((r) => r !== room && !may.includes(r))) },
    })),
    ...ONLY_APP_IMPORTS.map((room) => ({
      name: `only-app-imports-${room}`,
      severity: 'error',
      comment: `Nothing but app/ (the composition root) and test/ imports ${room}/.`,
      from: { pathNot: `^(app|test|${room})/` },
      to: { path: `^${room}/` },
    })),
    {
      name: 'matching-engine-no-io',
      severity: 'error',
      comment: 'The matching engine is pure: no node: modules (no clock, file, network or process).',
      from: { path: '^matching-engine/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'audit-pure-settlement',
      severity: 'error',
      comment:
        "The audit uses settlement's pure parts, not the submitter or a sending chain client. " +
        'Its benchmark (audit/bench*.ts) is exempt: it writes the month of chain history it then audits.',
      from: { path: '^audit/', pathNot: '^audit/bench[^/]*\\.ts$' },
      to: { path: any(SETTLEMENT_SENDS) },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to no file is a typo or a file moved without its importers.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // tsconfig's paths and NodeNext resolution: `./x.js` in TypeScript is ./x.ts.
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|data|scratch|test-artifacts|contracts/artifacts|dashboard/public/dist)/' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};

/**
 * The four households the crash tests run (`participants:` of microgrid.yaml):
 * two with panels in zone north, two without in south, with price policies,
 * so intervals trade across zones and have credits to lose.
 */
export const FOUR_HOUSEHOLDS = `participants:
  - { id: h01, name: One, zone: north, meters: [{ id: h01-grid, role: grid }, { id: h01-pv, role: pv }], policy: { minSellPrice: "0.1000", maxBuyPrice: "0.2500" } }
  - { id: h02, name: Two, zone: north, meters: [{ id: h02-grid, role: grid }, { id: h02-pv, role: pv }], policy: { minSellPrice: "0.1200", maxBuyPrice: "0.2400" } }
  - { id: h03, name: Three, zone: south, meters: [{ id: h03-grid, role: grid }] }
  - { id: h04, name: Four, zone: south, meters: [{ id: h04-grid, role: grid }], policy: { maxBuyPrice: "0.2000" } }
`;

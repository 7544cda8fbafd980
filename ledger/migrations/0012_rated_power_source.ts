/**
 * Where each meter's rated power came from (issue 12): `config`
 * (participants[].meters[] or bridge.devices[] ratedPowerW), `device` (SunSpec
 * nameplate model 120 WRtg, or a profile's ratedPowerW) or `default` (the
 * role's conservative default). NULL for rows written before it was recorded.
 */
export const sql = `
ALTER TABLE meters ADD COLUMN rated_power_source TEXT CHECK (rated_power_source IN ('config', 'device', 'default'));
`;

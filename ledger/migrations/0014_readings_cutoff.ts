/**
 * The metering step's receipt cut-off (issue 12, the audit part): each
 * interval energy records `received_by`, the receipt time up to which the
 * step read readings (`readings.received_at <= received_by`), so the audit
 * re-validates on exactly the readings the engine had, not on readings a
 * gateway's spool or a restart's catch-up delivered later. Rows metered
 * before this migration have none (null): the audit reads every stored
 * reading for them, as it did. The two indexes serve the stamps of
 * ledger/readings-cutoff.ts (the newest cut-off, the newest receipt).
 */
export const sql = `
ALTER TABLE interval_energy ADD COLUMN received_by INTEGER;
CREATE INDEX interval_energy_received_by ON interval_energy(received_by);
CREATE INDEX readings_received_at ON readings(received_at);
`;

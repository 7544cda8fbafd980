import { Type } from '@fastify/type-provider-typebox';
import type { StatementSummary } from '../../ledger/statements.js';
import { iso } from '../http.js';

/** A participant's statement for one interval, as the API sends it (intervals, statements lists). */
export const StatementOut = Type.Object({
  interval: Type.String(),
  participant: Type.String(),
  boughtWh: Type.Integer(),
  soldWh: Type.Integer(),
  gridImportWh: Type.Integer(),
  gridExportWh: Type.Integer(),
  paid: Type.String(),
  received: Type.String(),
  fees: Type.String(),
  gridAmount: Type.String(),
  net: Type.String(),
});

export function statementOut(s: StatementSummary): typeof StatementOut.static {
  const { intervalStart, participantId, ...rest } = s;
  return { interval: iso(intervalStart)!, participant: participantId, ...rest };
}

import { Type } from '@fastify/type-provider-typebox';
import { Nullable } from './nullable.js';

/** One meter's energy in one interval with its validation status, as the API sends it (interval detail, audit). */
export const EnergyOut = Type.Object({
  meterId: Type.String(),
  participant: Type.String(),
  role: Type.String(),
  importWh: Type.Integer(),
  exportWh: Type.Integer(),
  quality: Type.String(),
  status: Type.String({ description: 'actual | estimated | held | partial' }),
  reasons: Type.Array(Type.Object({ code: Type.String(), message: Type.String() })),
  method: Nullable(Type.String()),
});

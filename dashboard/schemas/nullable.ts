import { Type } from '@fastify/type-provider-typebox';
import type { TSchema } from '@sinclair/typebox';

/** `t` or null: a field the API always sends, null when there is no value. */
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

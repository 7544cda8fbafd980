import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson, sameCanonicalJson } from '../../core/canonical-json.js';
import { fcParams } from '../helpers/fc.js';

/** The map/join encoder canonicalJson replaced (string appends, for speed): the oracle for its bytes. */
function mapJoin(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`canonicalJson: non-finite number ${v}`);
      return JSON.stringify(v);
    case 'bigint':
      return JSON.stringify(v.toString());
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : mapJoin(x))).join(',')}]`;
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${mapJoin(obj[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode ${typeof v}`);
  }
}

const value = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.string({ unit: 'binary' }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.bigInt(),
  ),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('array'), tie('sparse'), tie('object')),
  array: fc.array(tie('node'), { maxLength: 6 }),
  sparse: fc.sparseArray(tie('node'), { maxLength: 8 }),
  object: fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), tie('node'), { maxKeys: 6 }),
}));

test('canonicalJson gives the bytes of the map/join encoder on any value (undefined, bigints, -0, sparse arrays, unicode keys)', () => {
  fc.assert(
    fc.property(value.node, (v) => {
      // the same bytes, or the same error (undefined at the top)
      const outcome = (f: (x: unknown) => string) => {
        try {
          return f(v);
        } catch (e) {
          return `error: ${(e as Error).message}`;
        }
      };
      assert.equal(outcome(canonicalJson), outcome(mapJoin));
    }),
    fcParams('canonical json = map/join', { numRuns: 2000 }),
  );
  assert.equal(
    canonicalJson({ b: [1, undefined, -0], a: { d: 2n, c: 'é' }, u: undefined }),
    '{"a":{"c":"é","d":"2"},"b":[1,null,0]}',
  );
  // eslint-disable-next-line no-sparse-arrays -- the hole is what is tested
  assert.equal(canonicalJson([1, , 2]), mapJoin([1, , 2]));
});

test('canonicalJson refuses what it cannot encode, with the same errors', () => {
  for (const bad of [Number.NaN, Infinity, { x: [-Infinity] }])
    assert.throws(() => canonicalJson(bad), /non-finite number/);
  assert.throws(() => canonicalJson({ f: () => 1 }), /cannot encode function/);
  assert.throws(() => canonicalJson(Symbol('s')), /cannot encode symbol/);
});

test('sameCanonicalJson(a, b) is canonicalJson(a) === canonicalJson(b): a value against its clone, an edited clone and another value', () => {
  const clone = (v: unknown): unknown => (v === undefined ? undefined : structuredClone(v));
  const edit = (v: unknown, k: number): unknown => {
    if (Array.isArray(v)) return v.length ? v.map((x, i) => (i === k % v.length ? edit(x, k + 1) : x)) : [k];
    if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.length === 0) return { [String(k)]: k };
      const key = keys[k % keys.length]!;
      return { ...v, [key]: edit((v as Record<string, unknown>)[key], k + 1) };
    }
    return k % 3 === 0 ? undefined : k % 3 === 1 ? String(v) : [v];
  };
  const outcome = (f: () => boolean) => {
    try {
      return String(f());
    } catch (e) {
      return `error: ${(e as Error).message}`;
    }
  };
  fc.assert(
    fc.property(value.node, value.node, fc.nat(), (a, other, k) => {
      for (const b of [a, clone(a), edit(clone(a), k), other])
        assert.equal(
          outcome(() => sameCanonicalJson(a, b)),
          outcome(() => canonicalJson(a) === canonicalJson(b)),
        );
    }),
    fcParams('sameCanonicalJson = encodings equal', { numRuns: 2000 }),
  );
  // the cases the walk leaves to the encodings
  assert.equal(sameCanonicalJson({ a: 1n }, { a: '1' }), true);
  assert.equal(sameCanonicalJson({ a: undefined }, {}), true);
  assert.equal(sameCanonicalJson([undefined], [null]), true);
  // eslint-disable-next-line no-sparse-arrays -- a hole encodes as nothing, an undefined element as null
  assert.equal(sameCanonicalJson([, 1], [undefined, 1]), false);
  assert.equal(sameCanonicalJson({ a: 1, b: 2 }, { b: 2, a: 1 }), true);
  assert.equal(sameCanonicalJson({ a: 1 }, { a: 2 }), false);
  assert.throws(() => sameCanonicalJson({ a: Number.NaN }, { a: Number.NaN }), /non-finite number/);
});

// Custom scalars. Bad literal or variable values become GraphQL validation errors (typed, 400), not crashes.
import { GraphQLError, GraphQLScalarType, Kind, valueFromASTUntyped } from 'graphql';

function badValue(name: string, detail: string): GraphQLError {
  return new GraphQLError(`Invalid ${name}: ${detail}`, { extensions: { code: 'BAD_USER_INPUT' } });
}

function parseDate(value: unknown): Date {
  if (typeof value !== 'string') throw badValue('DateTime', 'expected an ISO-8601 string');
  const d = new Date(value);
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) throw badValue('DateTime', `"${value}" is not an ISO-8601 timestamp`);
  return d;
}

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    return parseDate(value).toISOString();
  },
  parseValue: parseDate,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw badValue('DateTime', 'expected an ISO-8601 string');
    return parseDate(ast.value);
  },
});

function parseBigInt(value: unknown): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d{1,30}$/.test(value)) return BigInt(value);
  throw badValue('BigInt', 'expected an integer (a number, or a string of digits for values beyond 2^53)');
}

/** Serialized as a JSON number while exact, as a string of digits beyond 2^53. */
export const BigIntScalar = new GraphQLScalarType<bigint, number | string>({
  name: 'BigInt',
  serialize(value) {
    const v = typeof value === 'bigint' ? value : parseBigInt(value);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
  },
  parseValue: parseBigInt,
  parseLiteral(ast) {
    if (ast.kind === Kind.INT || ast.kind === Kind.STRING) return parseBigInt(ast.value);
    throw badValue('BigInt', 'expected an integer');
  },
});

/** Free-form JSON (shapes, split rules, hyperparameters); validated by the service that receives it. */
export const JSONScalar = new GraphQLScalarType<unknown, unknown>({
  name: 'JSON',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => valueFromASTUntyped(ast, variables),
});

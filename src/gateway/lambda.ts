// AWS Lambda entry (API Gateway HTTP API, payload v2) serving the same Apollo server as the HTTP gateway.
// The platform is created once per container (cold start) and reused by later invocations.
import { handlers, startServerAndCreateLambdaHandler } from '@as-integrations/aws-lambda';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import serverless from 'serverless-http';
import { coldStart } from './lambda-cold-start';
import { openRequestScope } from '../db/scope';
import { createRestApp } from './http';
import type { Platform } from '../platform';

export type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

function bodyBytesOf(event: APIGatewayProxyEventV2): number {
  const body = event.body ?? '';
  return event.isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body);
}

export function createLambdaHandler(platform: Platform): LambdaHandler {
  const inner = startServerAndCreateLambdaHandler(platform.apollo, handlers.createAPIGatewayProxyEventV2RequestHandler(), {
    context: async ({ event }) => platform.buildContext(event.headers ?? {}, { bodyBytes: bodyBytesOf(event) }),
  });
  // Bodies up to the inference limit reach Apollo, whose body-limit plugin holds other operations to MAX_BODY_BYTES.
  // (API Gateway itself caps payloads at 10 MB.)
  const limit = platform.config.limits.maxInferenceBodyBytes;
  // Health, readiness, metrics, the trainer API and /v1/embeddings: the same express routes as the HTTP server.
  const rest = serverless(createRestApp(platform));
  return async (event, context) => {
    const path = event.rawPath ?? event.requestContext?.http?.path ?? '/graphql';
    if (path !== '/graphql' && path !== '/graphql/') return (await rest(event, context)) as APIGatewayProxyResultV2;
    const body = event.body ?? '';
    const bytes = bodyBytesOf(event);
    if (bytes > limit) {
      return {
        statusCode: 413,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ errors: [{ message: `Request body exceeds ${limit} bytes`, extensions: { code: 'BAD_USER_INPUT' } }] }),
      };
    }
    // Answer malformed JSON in GraphQL's error shape, as the HTTP server does (the integration answers plain text).
    const contentType = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
    if (body && contentType.includes('json')) {
      try {
        JSON.parse(event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body);
      } catch {
        return {
          statusCode: 400,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ errors: [{ message: 'Request body is not valid JSON', extensions: { code: 'BAD_USER_INPUT' } }] }),
        };
      }
    }
    // A DbScope around the operation, filled by buildContext with the caller's tenant (src/db/scope.ts).
    return (await openRequestScope(async () => (await inner(event, context, () => undefined)) as APIGatewayProxyResultV2));
  };
}

const deployed = coldStart(createLambdaHandler);

/** The deployed handler: configuration from the Lambda environment (and the database secret it names). */
export const handler: LambdaHandler = async (event, context) => (await deployed())(event, context);

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

/**
 * The API's full version (semver). The major is the `/v1` in every URI; minor and patch change
 * with compatible additions and fixes. The NL API Design Rules (/core/version-header) ask for it
 * in an `API-Version` header on every response and in `info.version`; both come from here.
 */
export const API_VERSION = '1.0.0';
export const API_VERSION_HEADER = 'API-Version';

/** The base path of the versioned API; `servers` names it so paths in the document are relative. */
const API_BASE = '/v1';

/**
 * Every tag an operation uses, declared with what it groups (an undeclared tag fails the
 * Logius ruleset and leaves readers guessing). `openApiDocument` refuses an undeclared one.
 */
const TAGS: readonly { name: string; description: string }[] = [
  { name: 'oauth', description: 'Partner authentication: client assertion for an access token.' },
  { name: 'cases', description: 'Shared cases, persons, participations and contributions.' },
  { name: 'signals', description: 'Involvement signals between partners.' },
  { name: 'convenant', description: 'The convenant in force: its versions, matrix and text.' },
  { name: 'audit', description: "The privacy officers' view of the access log." },
  { name: 'operations', description: 'Health and readiness for operators and load balancers.' },
];

/**
 * The OpenAPI 3.1 document served at /v1/openapi.json and committed as openapi.json, shaped to
 * the NL API Design Rules (`npm run lint:api` checks it with Logius' Spectral ruleset): one
 * relative server `/v1` with paths below it, operations outside `/v1` (health) with a server of
 * their own, semver `info.version`, a contact, declared tags, and the API-Version header on
 * every response.
 */
export function openApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('convenant gateway')
    .setDescription(
      'Purpose-bound access to shared case data under the convenant. Every access is logged. ' +
        'Errors are application/problem+json (RFC 9457).',
    )
    .setVersion(API_VERSION)
    .setContact('Beheer convenant-gateway', 'https://convenant.example.nl', 'beheer@convenant.example.nl')
    .addServer(API_BASE, 'This gateway (relative to where this document is served).')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  config.tags = TAGS.map((tag) => ({ ...tag }));
  return withApiConventions(SwaggerModule.createDocument(app, config));
}

/**
 * Relative paths under `servers`; the API-Version header on every response; and the problem+json
 * answers every operation can give: 400 with all validation errors where it takes input (or a body)
 * (/core/error-handling/invalid-input), and any other error status as `default`.
 */
export function withApiConventions(document: OpenAPIObject): OpenAPIObject {
  const declared = new Set(TAGS.map((tag) => tag.name));
  const paths: OpenAPIObject['paths'] = {};
  for (const [route, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!isOperation(method, operation)) continue;
      const undeclared = (operation.tags ?? []).filter((tag: string) => !declared.has(tag));
      if (!operation.tags?.length || undeclared.length > 0) {
        throw new Error(
          `${method.toUpperCase()} ${route} has no declared tag (${undeclared.join(', ') || 'none'}): add it to TAGS in src/openapi.ts.`,
        );
      }
      operation.responses = { ...problemResponses(method, operation), ...operation.responses };
      for (const response of Object.values(operation.responses)) {
        if (response === undefined || '$ref' in response) continue;
        response.headers = {
          ...response.headers,
          [API_VERSION_HEADER]: { $ref: `#/components/headers/${API_VERSION_HEADER}` },
        };
      }
    }
    if (route === API_BASE || route.startsWith(`${API_BASE}/`)) {
      paths[route.slice(API_BASE.length) || '/'] = item;
    } else {
      // Outside the versioned API (health probes): served from the root, not from /v1.
      paths[route] = { ...item, servers: [{ url: '/', description: 'The root of this gateway.' }] };
    }
  }
  return {
    ...document,
    paths,
    components: {
      ...document.components,
      schemas: { ...document.components?.schemas, Problem: PROBLEM_SCHEMA },
      headers: {
        ...document.components?.headers,
        [API_VERSION_HEADER]: {
          description: 'The full version (semver) of the API that answered.',
          required: true,
          schema: { type: 'string', example: API_VERSION },
        },
      },
    },
  };
}

/** RFC 9457 problem details as src/common/problem.ts writes them (ProblemDetails). */
type SchemaObject = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string];

const PROBLEM_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', format: 'uri', description: 'Identifies the kind of problem.' },
    title: { type: 'string', description: 'Short summary of the kind of problem.' },
    status: { type: 'integer', description: 'The HTTP status code.' },
    detail: { type: 'string', description: 'What went wrong with this request, in a sentence.' },
    instance: { type: 'string', description: 'The request path.' },
    traceId: { type: 'string', description: 'The trace id of the request (also in x-request-id).' },
    errors: {
      type: 'array',
      description: 'Every invalid input at once (400 only).',
      items: {
        type: 'object',
        required: ['pointer', 'detail'],
        properties: {
          pointer: { type: 'string', description: 'JSON pointer into the body, or a parameter name.' },
          detail: { type: 'string' },
        },
      },
    },
  },
};

function problem(description: string) {
  return {
    description,
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}

function problemResponses(method: string, operation: Operation): Operation['responses'] {
  // A body that is not valid JSON is a 400 on every POST, PUT and PATCH, even one that takes none.
  const takesInput =
    ['post', 'put', 'patch'].includes(method) ||
    (operation.parameters?.length ?? 0) > 0 ||
    operation.requestBody !== undefined;
  return {
    ...(takesInput ? { '400': problem('Invalid input: every validation error at once.') } : {}),
    default: problem('Any other error (401, 403, 404, 409, 413, 429, 503, …) as problem+json.'),
  };
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;

function isOperation(method: string, value: unknown): value is Operation {
  return METHODS.has(method) && typeof value === 'object' && value !== null;
}

// POST /technician/ticket (docs/technicians.md): `Authorization: Bearer <ID token>` → `{ticket, expiresAt, technician}`.
// Its own function so that only it bundles jose; thin: read the header, mint (shared/relay/technician-tickets.ts), reply.
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { TECHNICIAN_TICKET_PATH } from '../shared/core/technician.js';
import { TechnicianTokenError } from '../shared/technician/errors.js';
import { cachedIssuerKeys } from '../shared/technician/id-token.js';
import { mintTechnicianTicket, type TicketDeps } from '../shared/server/use-cases/technician-tickets.js';
import type { RelayDeps } from '../shared/server/use-cases/deps.js';
import { dynamo } from './lib/clients.js';
import { depsFromEnvironment } from './lib/wiring.js';

type Result = APIGatewayProxyStructuredResultV2;

const json = (statusCode: number, body: unknown): Result => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** A refusal in the shape every client reads: a code and a sentence saying what to do. */
const refusal = (statusCode: number, code: string, message: string) => json(statusCode, { code, message });

/** The relay's deps, with where the configured issuer's keys come from. */
export type TechnicianTicketDeps = Pick<RelayDeps, 'technicians' | 'clock' | 'log' | 'technicianIssuer'> & Pick<TicketDeps, 'issuerKeys'>;

export const technicianTicketRoute = (resolve: () => TechnicianTicketDeps) =>
  middy<APIGatewayProxyEventV2, Result>().handler(async (event) => {
    if (event.rawPath !== TECHNICIAN_TICKET_PATH) return refusal(404, 'not-found', `this function serves only ${TECHNICIAN_TICKET_PATH}`);
    if (event.requestContext.http.method !== 'POST') return refusal(405, 'method-not-allowed', 'ask for a ticket with POST');
    const deps = resolve();
    const { technicianIssuer } = deps;
    if (!technicianIssuer) return refusal(404, 'technician-sign-in-not-configured', 'this relay has no sign-in issuer configured; its operator sets one (CDK context oidcIssuer, or npm start)');
    const bearer = /^Bearer ([\x21-\x7e]{1,16384})$/.exec(event.headers?.authorization ?? '');
    if (!bearer) return refusal(401, 'token-malformed', 'send your ID token as "Authorization: Bearer <ID token>"; sign in first (assist login, or the console)');
    try {
      return json(200, await mintTechnicianTicket({ ...deps, technicianIssuer }, bearer[1]!));
    } catch (error) {
      if (!(error instanceof TechnicianTokenError)) throw error;
      deps.log.warn('technician-token-refused', { code: error.code });
      return refusal(error.code === 'issuer-unreachable' ? 502 : 401, error.code, error.message);
    }
  });

const environmentDeps = depsFromEnvironment({ dynamo });
export const handler = technicianTicketRoute(() => ({ ...environmentDeps(), issuerKeys: cachedIssuerKeys }));

// Where technicians sign in on AWS (docs/technicians.md): the organisation's OpenID Connect issuer from CDK context
// (oidcIssuer, oidcClientId, oidcGroupClaim, oidcLoopbackRedirect), or, without one, an Amazon Cognito user pool the
// stack creates when given a hosted sign-in domain prefix (cognitoDomainPrefix). Neither: technician sign-in is off.

import { Stack } from 'aws-cdk-lib';
import { OAuthScope, UserPool, UserPoolClient, UserPoolDomain } from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { parseLoopbackRedirect, parseTechnicianIssuer } from '../../shared/core/technician-issuer.js';
import type { TechnicianSignInInfo } from '../../shared/core/technician.js';
import { technicianIssuerEnvironment } from '../../shared/server/config/technician-issuer.js';

export type TechnicianSignInConfig = { kind: 'issuer'; signIn: TechnicianSignInInfo } | { kind: 'cognito'; domainPrefix: string; loopbackRedirect: string };

/**
 * Where `assist login` receives the Cognito pool's answer: Cognito matches redirect addresses exactly and allows
 * http only for `localhost`, so the pool registers this one address and /relay.json names it to the CLI.
 */
export const COGNITO_LOOPBACK_REDIRECT = 'http://localhost:8976/callback';

/** Reads and checks the sign-in context; throws a sentence naming the context key to fix. */
export function technicianSignInFromContext(text: (key: string) => string | undefined): TechnicianSignInConfig | undefined {
  const issuer = text('oidcIssuer');
  const domainPrefix = text('cognitoDomainPrefix');
  if (issuer) {
    if (domainPrefix) throw new Error('context cognitoDomainPrefix creates a Cognito user pool and oidcIssuer names another issuer: give only one of them');
    const clientId = text('oidcClientId');
    if (!clientId) throw new Error('context oidcIssuer needs oidcClientId: the client id the issuer gave the relay’s application');
    const checked = parseTechnicianIssuer(issuer, clientId, text('oidcGroupClaim'), (key) => `context ${{ issuer: 'oidcIssuer', clientId: 'oidcClientId', groupClaim: 'oidcGroupClaim' }[key]}`);
    const loopbackRedirect = text('oidcLoopbackRedirect');
    return { kind: 'issuer', signIn: loopbackRedirect ? { ...checked, loopbackRedirect: parseLoopbackRedirect(loopbackRedirect, 'context oidcLoopbackRedirect') } : checked };
  }
  if (text('oidcClientId') || text('oidcGroupClaim') || text('oidcLoopbackRedirect')) throw new Error('context oidcClientId, oidcGroupClaim and oidcLoopbackRedirect go with oidcIssuer: give the issuer URL too');
  if (!domainPrefix) return undefined;
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(domainPrefix) || /aws|amazon|cognito/.test(domainPrefix)) {
    throw new Error(`context cognitoDomainPrefix must be lower-case letters, digits and hyphens without aws, amazon or cognito (Cognito's rule), got "${domainPrefix}"`);
  }
  return { kind: 'cognito', domainPrefix, loopbackRedirect: COGNITO_LOOPBACK_REDIRECT };
}

export interface TechnicianSignInProps {
  config: TechnicianSignInConfig;
  /** The relay's https:// base: the console's sign-in page is under it. */
  httpUrl: string;
}

/** The environment variables that tell the functions the issuer; with Cognito, the pool it creates. */
export class TechnicianSignIn extends Construct {
  readonly environment: Record<string, string>;
  readonly userPool?: UserPool;

  constructor(scope: Construct, id: string, props: TechnicianSignInProps) {
    super(scope, id);
    let signIn: TechnicianSignInInfo;
    if (props.config.kind === 'issuer') {
      signIn = props.config.signIn;
    } else {
      // Technicians are added by the operator (no self sign-up); groups are Cognito groups (cognito:groups).
      this.userPool = new UserPool(this, 'UserPool', { selfSignUpEnabled: false, signInAliases: { email: true }, standardAttributes: { fullname: { required: false, mutable: true } } });
      new UserPoolDomain(this, 'Domain', { userPool: this.userPool, cognitoDomain: { domainPrefix: props.config.domainPrefix } });
      const client = new UserPoolClient(this, 'Client', {
        userPool: this.userPool,
        generateSecret: false,
        authFlows: {},
        oAuth: {
          flows: { authorizationCodeGrant: true },
          scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
          // Cognito matches redirect addresses exactly: the console's page, and the one loopback address relay.json names to assist login.
          callbackUrls: [`${props.httpUrl}/technician`, props.config.loopbackRedirect],
        },
      });
      signIn = {
        issuer: `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${this.userPool.userPoolId}`,
        clientId: client.userPoolClientId,
        groupClaim: 'cognito:groups',
        loopbackRedirect: props.config.loopbackRedirect,
      };
    }
    this.environment = technicianIssuerEnvironment(signIn);
  }
}

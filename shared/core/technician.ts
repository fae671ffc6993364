// Who a technician is, as verified from an ID token of the organisation's OpenID Connect issuer (docs/technicians.md).
// Types only: the relay, the CLI, the console and devices share them.

/** Where a technician's client exchanges its ID token for a WebSocket sign-in ticket (POST, relative to the relay's httpUrl). */
export const TECHNICIAN_TICKET_PATH = '/technician/ticket';

/** A technician as the relay (or a device) verified them from an ID token of the configured issuer. */
export interface TechnicianIdentity {
  /** The token's `iss`: the configured issuer URL. */
  issuer: string;
  /** The token's `sub`, stable per issuer: (issuer, subject) identifies a technician. */
  subject: string;
  /** The `name` claim, else `preferred_username`, else `email`, else `sub`. */
  name: string;
  /** The `email` claim, when the token has one. */
  email?: string;
  /** The configured group claim's values; empty when the token has none. */
  groups: readonly string[];
}

/** The issuer technicians sign in with (CDK context on AWS, the local provider with `npm start`); devices pin it. */
export interface TechnicianIssuer {
  /** The issuer URL, exactly as its tokens' `iss` says it. */
  issuer: string;
  /** The client the console and `assist login` sign in as: ID tokens must name it as their audience. */
  clientId: string;
  /** The claim that lists a technician's groups (`groups`; Cognito's is `cognito:groups`). */
  groupClaim: string;
}

/**
 * What a relay's /relay.json tells technicians' clients about signing in (`technicianSignIn`): the issuer, and for an
 * issuer that matches redirect addresses exactly (Cognito), the one loopback address it registered for `assist login`.
 * Devices pin only the TechnicianIssuer part.
 */
export interface TechnicianSignInInfo extends TechnicianIssuer {
  /** `http://localhost:8976/callback`: `assist login` listens on its port and sends exactly it; absent, any port on 127.0.0.1 (RFC 8252). */
  loopbackRedirect?: string;
}

/**
 * The technician's half of end-to-end authentication: an ID token whose `nonce` is bound to the
 * technician's Ed25519 key (technicianKeyNonce), and that key's signature over what the session binds.
 */
export interface TechnicianProof {
  idToken: string;
  /** Ed25519, raw 32 bytes, base64url. */
  publicKey: string;
  /** Ed25519 signature, base64url, over technicianBindingMessage(bound). */
  signature: string;
}

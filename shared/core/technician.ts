/** A technician as the relay (or a device) verified them from an ID token of the configured issuer. */
export interface TechnicianIdentity {
  /** The token's iss, equal to the configured issuer URL. */
  issuer: string;
  /** sub: stable per issuer; (issuer, subject) identifies a technician. */
  subject: string;
  /** `name` claim, else preferred_username, else email, else sub. */
  name: string;
  /** `email` claim when present. */
  email?: string;
  /** The configured group claim (default "groups"; Cognito "cognito:groups"), [] when absent. */
  groups: readonly string[];
}

/**
 * A percent-decoded URL path segment, or undefined for a malformed one (`%`, `%ff`): the caller's
 * mistake, answered with 400, not an exception that would become a 500.
 */
export function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

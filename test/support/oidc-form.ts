// Signs in at the local OpenID provider the way a browser does, over real HTTP: follows the authorization
// request's redirects with a cookie jar, fills in the login form and returns the query the issuer redirects
// back with (code and state, or error). Tests of the console drive a real browser instead (test/e2e).

/** Follows redirects by hand, keeping cookies, until the issuer sends the browser to `redirectUri`. */
export async function signInWithForm(
  authorizationUrl: string,
  redirectUri: string,
  username: string,
  password: string,
): Promise<{ query: URLSearchParams; loginStatus: number; redirectedTo?: string }> {
  const cookies = new Map<string, string>();
  const visit = async (url: string, init: RequestInit = {}) => {
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') } });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const equals = pair.indexOf('=');
      cookies.set(pair.slice(0, equals), pair.slice(equals + 1));
    }
    return response;
  };
  const follow = async (start: Response, from: string): Promise<{ url: string; response: Response }> => {
    let response = start;
    let url = from;
    while (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get('location')!, url).href;
      if (url.startsWith(redirectUri)) return { url, response };
      response = await visit(url);
    }
    return { url, response };
  };
  const page = await follow(await visit(authorizationUrl), authorizationUrl);
  const action = /<form method="post" action="([^"]+)"/.exec(await page.response.text())?.[1];
  if (!action) throw new Error(`no login form at ${page.url} (HTTP ${page.response.status})`);
  const loginUrl = new URL(action.replace(/&amp;/g, '&'), page.url).href;
  const submitted = await visit(loginUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username, password }).toString() });
  if (submitted.status < 300 || submitted.status >= 400) return { query: new URLSearchParams(), loginStatus: submitted.status };
  const back = await follow(submitted, loginUrl);
  if (!back.url.startsWith(redirectUri)) throw new Error(`the sign-in ended at ${back.url} (HTTP ${back.response.status}: ${await back.response.text()})`);
  return { query: new URL(back.url).searchParams, loginStatus: submitted.status, redirectedTo: back.url };
}

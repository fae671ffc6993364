/** Debian's package (`apt-get install chromium`); CHROMIUM_PATH points elsewhere. For the console's tests and the X display's target program. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// The desktop benchmark's baseline: the person's side of today's JPEG-stills path, as the web console
// sends a shared screen (at most two stills a second, the next only once everything before is
// acknowledged, none identical to the last, none over the protocol's 512 KB), but of the X display node-screenshots sees and at
// full size (the console scales in a canvas, which Node has not got). Run on the benchmark's display:
// `node --import tsx bench/jpeg-stills-agent.ts <relay URL> <helper code>`; it approves view only.
import { Monitor } from 'node-screenshots';
import { MAX_SCREEN_IMAGE_BYTES } from '../sdk/assist-messages.js';
import { acceptHelp } from '../sdk/node.js';

const STILL_INTERVAL_MS = 500;
const [relay, code] = process.argv.slice(2);
if (!relay || !code) throw new Error('usage: jpeg-stills-agent <relay URL> <helper code>');

const monitor = Monitor.all().find((candidate) => candidate.isPrimary()) ?? Monitor.all()[0]!;
const session = await acceptHelp({ relay, code, name: 'Benchmark person' });
let timer: NodeJS.Timeout | undefined;
let lastSent: Buffer | undefined;

async function sendStill(): Promise<void> {
  if (!session.readyForScreenImage) return;
  const image = await monitor.captureImage();
  const jpeg = await image.toJpeg();
  // As the console does: nothing changed on screen, nothing sent.
  if (jpeg.length > MAX_SCREEN_IMAGE_BYTES || lastSent?.equals(jpeg)) return;
  if (await session.sendScreen({ width: image.width, height: image.height, jpeg: new Uint8Array(jpeg) })) lastSent = jpeg;
}

function tick(): void {
  const started = performance.now();
  void sendStill().finally(() => {
    if (session.phase !== 'ended') timer = setTimeout(tick, Math.max(0, STILL_INTERVAL_MS - (performance.now() - started)));
  });
}

session.on('expert', () => {
  void session
    .approve('view')
    .then(() => session.startScreenShare())
    .then(tick);
});
session.on('ended', () => {
  clearTimeout(timer);
  process.exit(0);
});

import { VideoEncoder, VideoDecoder, VideoFrame, EncodedVideoChunk } from '@napi-rs/webcodecs';
const W=640,H=360;
for (const codec of process.argv.slice(2)) {
  const cfg = { codec, width: W, height: H, bitrate: 1e6, framerate: 15, latencyMode: 'quality', avc: { format: 'annexb' } };
  const sup = await VideoEncoder.isConfigSupported(cfg);
  let out = [];
  const enc = new VideoEncoder({ output: (c, m) => { const d = new Uint8Array(c.byteLength); c.copyTo(d); out.push({ type: c.type, ts: c.timestamp, d, m }); }, error: e => console.log('enc err', e) });
  enc.configure(cfg);
  let decoded = [];
  const dec = new VideoDecoder({ output: f => { decoded.push(f.timestamp); f.close(); }, error: e => console.log('dec err', e) });
  dec.configure({ codec, codedWidth: W, codedHeight: H, optimizeForLatency: true });
  const log = [];
  for (let i = 0; i < 8; i++) {
    const rgba = new Uint8Array(W*H*4); for (let p = 0; p < rgba.length; p += 4) { rgba[p] = (p/4 + i*40) % 256; rgba[p+1] = i*30; rgba[p+3]=255; }
    const f = new VideoFrame(rgba, { format: 'RGBA', codedWidth: W, codedHeight: H, timestamp: i*66000 });
    const before = out.length;
    enc.encode(f, { keyFrame: i === 0 }); f.close();
    // wait until chunk out
    for (let k=0;k<200 && out.length===before;k++) await new Promise(r=>setTimeout(r,5));
    const got = out.slice(before);
    for (const c of got) dec.decode(new EncodedVideoChunk({ type: c.type, timestamp: c.ts, data: c.d }));
    for (let k=0;k<40 && decoded.length < i+1;k++) await new Promise(r=>setTimeout(r,5));
    log.push(`in${i}:chunks=${got.map(c=>c.type[0]+c.ts/66000).join(',')} decoded=${decoded.length}`);
  }
  console.log(codec, 'supported', sup.supported, log.join(' | '));
  // check NAL: first chunk SPS profile
  const d = out[0].d; let idx = -1; for (let i=0;i<d.length-4;i++) if (d[i]==0&&d[i+1]==0&&d[i+2]==1&&(d[i+3]&0x1f)==7){idx=i+4;break;}
  if (idx>0) console.log('  SPS profile_idc', d[idx], 'constraints', d[idx+1].toString(16), 'level', d[idx+2]);
  enc.close(); dec.close();
}

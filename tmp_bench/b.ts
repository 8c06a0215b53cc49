import decodeJpeg from "@jsquash/jpeg/decode.js";
import encodeJpeg from "@jsquash/jpeg/encode.js";
import encodePng from "@jsquash/png/encode.js";
import decodePng from "@jsquash/png/decode.js";
const jpeg = Deno.readFileSync("/tmp/imgtry/1mb.jpg");
for (
  const opts of [{ quality: 85 }, { quality: 85, progressive: false }, {
    quality: 85,
    progressive: false,
    optimize_coding: false,
  }]
) {
  const ts = [];
  let size = 0;
  for (let i = 0; i < 4; i++) {
    const t = performance.now();
    const d = await decodeJpeg(jpeg.slice().buffer);
    const t1 = performance.now();
    const out = await encodeJpeg(d, opts);
    size = out.byteLength;
    ts.push(`${Math.round(t1 - t)}+${Math.round(performance.now() - t1)}`);
  }
  console.log(JSON.stringify(opts), ts.join(" "), size);
}
const d = await decodeJpeg(jpeg.slice().buffer);
let t = performance.now();
const p = await encodePng(d);
console.log("png enc", Math.round(performance.now() - t), p.byteLength);
t = performance.now();
await decodePng(p);
console.log("png dec", Math.round(performance.now() - t));
console.log(typeof ImageData);

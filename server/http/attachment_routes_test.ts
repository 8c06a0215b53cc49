// POST /attachments and GET /attachments/<id>[/thumb] on one app: what is
// accepted and served with which headers, every refusal (which stores
// nothing), what is stripped from the stored bytes, and the storage cap.
import assert from "node:assert/strict";
import { GIF } from "imagescript";
import { expectError, withNameApp } from "../../test/harness/name_app.ts";
import {
  contains,
  gifWithMetadata,
  jpegBytes,
  pngBomb,
  pngBytes,
  pngWithText,
  SECRET,
  SVG,
  webpBytes,
  withMetadata,
} from "../../test/harness/images.ts";
import type { Database } from "../../db/database.ts";
import { upload } from "../../test/harness/images.ts";
import { THUMB_MAX_SIDE } from "../../protocol/limits.ts";

async function stored(
  db: Database,
): Promise<{ uploads: number; blobs: number }> {
  const [row] = await db.query<{ uploads: number; blobs: number }>(
    `select (select count(*)::int from attachments) as uploads,
       (select count(*)::int from attachment_blobs) as blobs`,
  );
  return row;
}

async function storedBytes(db: Database): Promise<Uint8Array[]> {
  const rows = await db.query<{ data: Uint8Array; thumb: Uint8Array | null }>(
    "select data, thumb from attachment_blobs",
  );
  return rows.flatMap((r) => r.thumb ? [r.data, r.thumb] : [r.data]);
}

Deno.test("POST /attachments stores a PNG and GET serves it with safe headers, an ETag and 304", async () => {
  await withNameApp(async ({ app }) => {
    const res = await upload(app, await pngBytes(64, 48), "image/png");
    const made = await res.json();
    assert.equal(res.status, 201, JSON.stringify(made));
    assert.match(made.id, /^[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(
      { width: made.width, height: made.height, type: made.type },
      { width: 64, height: 48, type: "image/png" },
    );
    assert.equal(typeof made.bytes, "number");
    const got = await app.request(`/attachments/${made.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get("content-type"), "image/png");
    assert.equal(got.headers.get("x-content-type-options"), "nosniff");
    assert.equal(
      got.headers.get("content-security-policy"),
      "default-src 'none'",
    );
    assert.equal(
      got.headers.get("content-disposition"),
      `inline; filename="picture-${made.id}.png"`,
    );
    assert.equal(
      got.headers.get("cache-control"),
      "public, max-age=31536000, immutable",
    );
    const body = new Uint8Array(await got.arrayBuffer());
    assert.equal(body.length, made.bytes);
    const etag = got.headers.get("etag")!;
    assert.match(etag, /^"[0-9a-f]{32}"$/);
    const again = await app.request(`/attachments/${made.id}`, {
      headers: { "If-None-Match": etag },
    });
    assert.equal(again.status, 304);
    assert.equal(again.headers.get("etag"), etag);
    // Small enough: the thumbnail is the picture.
    const thumb = await app.request(`/attachments/${made.id}/thumb`);
    assert.equal(thumb.status, 200);
    assert.equal((await thumb.arrayBuffer()).byteLength, made.bytes);
    await expectError(
      await app.request("/attachments/AAAAAAAAAAAAAAAAAAAAAA"),
      404,
      /no such picture/,
    );
    await expectError(await app.request("/attachments/x"), 404, /no such/);
  });
});

Deno.test("A large picture gets a thumbnail whose long side is THUMB_MAX_SIDE; JPEG, WebP and multipart uploads work", async () => {
  await withNameApp(async ({ app }) => {
    const res = await upload(app, await jpegBytes(1200, 800), "image/jpeg");
    const made = await res.json();
    assert.equal(res.status, 201, JSON.stringify(made));
    const thumb = await app.request(`/attachments/${made.id}/thumb`);
    assert.equal(thumb.headers.get("content-type"), "image/jpeg");
    const { Image } = await import("imagescript");
    const small = await Image.decode(new Uint8Array(await thumb.arrayBuffer()));
    assert.deepEqual([small.width, small.height], [THUMB_MAX_SIDE, 267]);
    assert.notEqual(
      thumb.headers.get("etag"),
      (await app.request(`/attachments/${made.id}`, { method: "HEAD" }))
        .headers.get("etag"),
    );

    const webp = await upload(app, await webpBytes(30, 20), "image/webp");
    const w = await webp.json();
    assert.equal(webp.status, 201, JSON.stringify(w));
    assert.equal(w.type, "image/webp");

    const form = new FormData();
    form.append(
      "file",
      new File([await pngBytes(10, 10)], "cat.png", { type: "image/png" }),
    );
    const multi = await app.request("/attachments?name=Ada", {
      method: "POST",
      body: form,
    });
    const m = await multi.json();
    assert.equal(multi.status, 201, JSON.stringify(m));
    assert.deepEqual([m.width, m.height, m.type], [10, 10, "image/png"]);
  });
});

Deno.test("Refused uploads get a clear 4xx and store nothing: SVG, type mismatch, bomb, truncated, too large, no name", async () => {
  await withNameApp(
    async ({ app, db, claim }) => {
      const png = await pngBytes(20, 20);
      const jpeg = await jpegBytes(200, 100);
      const cases: [Promise<Response>, number, RegExp][] = [
        [upload(app, SVG, "image/png"), 415, /not a JPEG, PNG, WebP or GIF/],
        [upload(app, SVG, "image/svg+xml"), 415, /SVG is not accepted/],
        [
          upload(app, png, "image/jpeg"),
          415,
          /sent as image\/jpeg.*image\/png/,
        ],
        [upload(app, png, "text/plain"), 415, /not accepted/],
        [upload(app, pngBomb(), "image/png"), 413, /20000 x 20000/],
        [
          upload(app, jpeg.slice(0, Math.floor(jpeg.length / 2)), "image/jpeg"),
          400,
          /truncated or corrupt/,
        ],
        [
          upload(app, jpeg.slice(0, 40), "image/jpeg"),
          400,
          /truncated or corrupt/,
        ],
        [upload(app, new Uint8Array(300_000), "image/png"), 413, /larger than/],
        [
          Promise.resolve(app.request("/attachments", {
            method: "POST",
            headers: { "Content-Type": "image/png" },
            body: png,
          })),
          400,
          /\?name=/,
        ],
        [
          Promise.resolve(app.request("/attachments?name=Ada", {
            method: "POST",
            body: png,
          })),
          415,
          /Content-Type/,
        ],
      ];
      for (const [res, status, pattern] of cases) {
        await expectError(await res, status, pattern);
      }
      await claim("Bob");
      await expectError(
        await upload(app, png, "image/png", "Bob"),
        403,
        /claimed name/,
      );
      assert.deepEqual(await stored(db), { uploads: 0, blobs: 0 });
    },
    {
      uploadSettings: {
        maxBytes: 200_000,
        maxPixels: 50_000_000,
        storageCap: null,
      },
    },
  );
});

Deno.test("No EXIF (GPS), XMP, IPTC, comment or text chunk is stored or served; EXIF orientation is applied", async () => {
  await withNameApp(async ({ app, db }) => {
    const photo = withMetadata(await jpegBytes(64, 48), 6);
    assert.ok(contains(photo, SECRET) && contains(photo, "Exif"));
    const res = await upload(app, photo, "image/jpeg");
    const made = await res.json();
    assert.equal(res.status, 201, JSON.stringify(made));
    // Orientation 6: turned a quarter clockwise, so 48 x 64.
    assert.deepEqual([made.width, made.height], [48, 64]);
    const png = await upload(app, pngWithText(await pngBytes()), "image/png");
    assert.equal(png.status, 201);
    await png.body?.cancel();
    const gif = await upload(app, await gifWithMetadata(), "image/gif");
    const g = await gif.json();
    assert.equal(gif.status, 201, JSON.stringify(g));
    const served = new Uint8Array(
      await (await app.request(`/attachments/${g.id}`)).arrayBuffer(),
    );
    // Still animated: both frames kept.
    assert.equal((await GIF.decode(served)).length, 2);
    const blobs = await storedBytes(db);
    assert.equal(blobs.length, 3);
    for (const bytes of blobs) {
      for (
        const needle of [
          SECRET,
          "Exif",
          "http://ns.adobe.com",
          "Photoshop",
          "tEXt",
          "XMP",
          "GPS",
        ]
      ) {
        assert.ok(!contains(bytes, needle), `stored bytes contain ${needle}`);
      }
      // No APP1 (EXIF/XMP), APP13 (IPTC) or COM segment in a JPEG.
      if (bytes[0] === 0xff && bytes[1] === 0xd8) {
        for (const marker of [0xe1, 0xed, 0xfe]) {
          assert.ok(!contains(bytes, [0xff, marker]), `marker ${marker}`);
        }
      }
    }
  });
});

Deno.test("The same picture twice is stored once; a full storage cap answers 507 and stores nothing", async () => {
  await withNameApp(
    async ({ app, db }) => {
      const png = await pngBytes(40, 40);
      for (const name of ["Ada", "Bob"]) {
        const res = await upload(app, png, "image/png", name);
        assert.equal(res.status, 201);
        await res.body?.cancel();
      }
      assert.deepEqual(await stored(db), { uploads: 2, blobs: 1 });
      await expectError(
        await upload(app, await pngBytes(300, 300), "image/png"),
        507,
        /storage is full/,
      );
      assert.deepEqual(await stored(db), { uploads: 2, blobs: 1 });
    },
    {
      uploadSettings: {
        maxBytes: 1_000_000,
        maxPixels: 50_000_000,
        storageCap: 20_000,
      },
    },
  );
});

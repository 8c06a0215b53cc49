// A link preview in a real browser: the `preview` change (made here with
// psql, as the fetcher would) shows a text card under the message, live and
// after a reload, with no image loaded. With PLAZA_SCREENSHOTS=<dir> it saves
// link-preview.png. Needs Debian's Chromium at /usr/bin/chromium.
import assert from "node:assert/strict";
import postgres from "postgres";
import {
  launchChromium,
  openLivePage,
  withBuiltClient,
} from "../harness/browser.ts";
import {
  postJson,
  startTestInstance,
  withTestDatabase,
} from "../harness/fixtures.ts";

Deno.test("browser: a preview event shows a text-only card under its message, and it stays after a reload", async () => {
  await withBuiltClient((dist) =>
    withTestDatabase(async (url) => {
      const plaza = await startTestInstance(url, { DIST_DIR: dist });
      const browser = await launchChromium();
      const sql = postgres(url, { onnotice: () => {} });
      try {
        const context = await browser.newContext();
        const images: string[] = [];
        context.on("request", (r) => {
          if (r.resourceType() === "image") images.push(r.url());
        });
        const { page, errors } = await openLivePage(context, plaza.url, "bob");
        const link = "https://site.test/engine";
        const posted = await postJson(plaza.url, "ada", `look: ${link}`);
        await page.getByText("look:").waitFor();
        // Hostile text stays text.
        await sql`insert into message_previews
          (message_id, url, status, title, description, image_url, site_name)
          values (${posted.id}, ${link}, 'ok', ${"Ada & the <b>Engine</b>"},
            ${"Notes on the Analytical Engine, 1843."},
            'https://img.site.test/engine.png', 'Test Site')`;
        const card = page.getByTestId("preview");
        await card.waitFor();
        assert.equal(await card.getAttribute("href"), link);
        assert.equal(
          await card.innerText(),
          "Test Site\nAda & the <b>Engine</b>\nNotes on the Analytical Engine, 1843.",
        );
        assert.equal(await card.locator("img, b").count(), 0);
        const shots = Deno.env.get("PLAZA_SCREENSHOTS");
        if (shots) await page.screenshot({ path: `${shots}/link-preview.png` });

        await page.reload();
        await page.getByTestId("preview").waitFor();
        assert.deepEqual(images, []);
        assert.deepEqual(errors, []);
      } finally {
        await sql.end({ timeout: 1 });
        await browser.close();
        await plaza.close();
      }
    })
  );
});

/**
 * The first script of /embed (dist/embed.html, a classic script in its
 * head, so it runs before the page is drawn): `?mode=write` marks the page
 * writable, which shows the composer (and the name prompt) that
 * client/embed/embed.css hides otherwise. Not in the main bundle, which
 * every visit of the room loads.
 */
if (new URLSearchParams(location.search).get("mode") === "write") {
  document.documentElement.classList.add("write");
}

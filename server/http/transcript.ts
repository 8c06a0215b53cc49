/**
 * Readable transcripts of an export (GET /export?format=markdown|html): a
 * head, one block per message, a foot. Everything people wrote is escaped,
 * so a message can neither run script in the HTML nor turn into markup
 * (links, images, headings, raw HTML) in the Markdown.
 */
import type { ExportRange, ExportRecord } from "../store/room_export.ts";

/** A transcript format: how the file starts, each message, how it ends. */
export interface TranscriptFormat {
  contentType: string;
  extension: string;
  head(range: ExportRange): string;
  message(record: ExportRecord): string;
  foot(): string;
}

/** `2026-12-06 17:04:05 UTC` from an ISO time. */
function readableTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

function rangeText(range: ExportRange): string {
  if (range.from === null && range.to === null) return "All messages";
  const from = range.from === null ? "the start" : readableTime(range.from);
  const to = range.to === null ? "now" : readableTime(range.to);
  return `Messages from ${from} to ${to}`;
}

function reactionsText(record: ExportRecord): string {
  const counts = new Map<string, number>();
  for (const r of record.reactions) {
    counts.set(r.emoji, (counts.get(r.emoji) ?? 0) + 1);
  }
  return [...counts].map(([emoji, n]) => `${emoji} ${n}`).join(" · ");
}

// A transcript names each picture by its alt text: the bytes stay in the
// database, and a link would outlive them.
const pictureLines = (record: ExportRecord): string[] =>
  record.attachments.map((a) =>
    a.alt === "" ? "[picture]" : `[picture: ${a.alt}]`
  );

/** Backslash-escapes every ASCII punctuation mark CommonMark (and GFM) reads as markup. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}\[\]()<>#+\-.!|~&=:"]/g, "\\$&");
}

// Leading spaces would make an indented code block after a blank line.
const keepIndent = (line: string) =>
  line.replace(/^[ \t]+/, (s) => "\u00a0".repeat(s.length));

/** Markdown: a heading, then each message as a line of who and when and its text quoted below. */
export const MARKDOWN: TranscriptFormat = {
  contentType: "text/markdown; charset=utf-8",
  extension: "md",
  head: (range) =>
    `# Plaza transcript\n\n${escapeMarkdown(rangeText(range))}\n`,
  message(record) {
    const about = [readableTime(record.createdAt), `#${record.id}`];
    if (record.editedAt !== null) about.push("edited");
    if (record.replyTo !== null) about.push(`reply to #${record.replyTo}`);
    const lines = [
      ...(record.text === "" ? [] : record.text.split("\n")),
      ...pictureLines(record),
    ].map((line) =>
      line === "" ? ">" : `> ${keepIndent(escapeMarkdown(line))}`
    );
    const reactions = reactionsText(record);
    return `\n**${escapeMarkdown(record.author)}** · ${
      escapeMarkdown(about.join(" · "))
    }\n\n${lines.join("\n")}\n${reactions === "" ? "" : `\n${reactions}\n`}`;
  },
  foot: () => "",
};

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** HTML: a standalone page, one article per message, no script and no style. */
export const HTML: TranscriptFormat = {
  contentType: "text/html; charset=utf-8",
  extension: "html",
  head: (range) =>
    `<!doctype html>\n<html lang="en">\n<meta charset="utf-8">\n<title>Plaza transcript</title>\n<h1>Plaza transcript</h1>\n<p>${
      escapeHtml(rangeText(range))
    }</p>\n`,
  message(record) {
    const about = [`#${record.id}`];
    if (record.editedAt !== null) about.push("edited");
    if (record.replyTo !== null) {
      about.push(
        `reply to <a href="#m${record.replyTo}">#${record.replyTo}</a>`,
      );
    }
    const reactions = reactionsText(record);
    const text = [
      ...(record.text === "" ? [] : record.text.split("\n")),
      ...pictureLines(record),
    ].map(escapeHtml).join("<br>\n");
    return `<article id="m${record.id}">\n<p><b>${
      escapeHtml(record.author)
    }</b> <time datetime="${escapeHtml(record.createdAt)}">${
      readableTime(record.createdAt)
    }</time> ${about.join(" · ")}</p>\n<p>${text}</p>\n${
      reactions === "" ? "" : `<p>${escapeHtml(reactions)}</p>\n`
    }</article>\n`;
  },
  foot: () => "</html>\n",
};

/** Entry point: renders the app and wires the live stream into the chat state. */
import { render } from "preact";
import { chat } from "./chat_state.ts";
import { App } from "./components/app.tsx";
import { connectEventStream } from "./event_stream.ts";
import "./styles.css";

const root = document.getElementById("app");
if (root === null) throw new Error('index.html lacks <div id="app">');
render(<App />, root);

connectEventStream({
  onMessage: (message) => chat.receiveMessage(message),
  onStatus: (status) => chat.setStatus(status),
});

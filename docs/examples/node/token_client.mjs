// Call an app behind gradio-portal from Node.js with a personal access token.
//
//   export GRADIO_PORTAL_TOKEN=gpp_...       # /account/tokens, or `gradio-portal tokens create`
//   node token_client.mjs http://127.0.0.1:8000/app/ /greet '["Ada"]'
//
// Prints each update of the event as it comes (a generator streams several; the completion
// repeats the last one). A file output is an object whose "url" the same token fetches.
import { Client } from "@gradio/client";

const [url, endpoint, inputs = "[]"] = process.argv.slice(2);
const token = process.env.GRADIO_PORTAL_TOKEN;
if (!url || !endpoint || !token) {
  console.error("usage: GRADIO_PORTAL_TOKEN=gpp_... node token_client.mjs URL /endpoint '[inputs]'");
  process.exit(2);
}

const client = await Client.connect(url, {
  headers: { Authorization: `Bearer ${token}` },
});
let last = null;
for await (const message of client.submit(endpoint, JSON.parse(inputs))) {
  if (message.type === "data") {
    last = message.data;
    console.log(JSON.stringify(message.data));
  }
  if (message.type === "status" && message.stage === "error") {
    console.error(message.message);
    process.exit(1);
  }
}
if (last === null) process.exit(1);
process.exit(0);

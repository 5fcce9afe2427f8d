// `npm run bench -- NAME`: runs bench/NAME.ts (compiled), e.g. engine, data, architect, search.
const name = process.argv[2];
if (!name) {
  process.stderr.write('usage: npm run bench -- <engine|data|architect|profile|reference|queue|gpu>\n');
  process.exit(2);
}
await import(`./${name}.js`);

// The quote service's dependencies, as real HTTP servers in their own process: a pricing engine, a
// materials catalog and an orders database. Each answers in a few milliseconds; faults come from the game
// day (through the quote service's chaos injectors), not from here.
//
// Prints one JSON line: { "pricing": url, "catalog": url, "database": url }.
import { createServer } from 'node:http';

const MATERIALS = ['PLA', 'ABS', 'PETG', 'Nylon', 'Aluminium 6061', 'Steel 304', 'Titanium'];
let orders = 0;

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const json = (res, status, body) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
};

function pricing(req, res) {
  const url = new URL(req.url, 'http://pricing');
  const file = url.searchParams.get('file') ?? 'part';
  // A deterministic "calculation": a few ms of work.
  let price = 10;
  for (const ch of file) price = (price * 31 + ch.charCodeAt(0)) % 1000;
  void delay(4 + Math.random() * 4).then(() => json(res, 200, { file, price: 20 + price / 10, currency: 'EUR' }));
}

function catalog(_req, res) {
  void delay(2).then(() => json(res, 200, { materials: MATERIALS }));
}

function database(req, res) {
  if (req.method === 'POST') {
    req.resume();
    req.on('end', () => void delay(3 + Math.random() * 3).then(() => json(res, 201, { id: ++orders })));
    return;
  }
  void delay(2).then(() => json(res, 200, { orders }));
}

async function listen(handler) {
  const server = createServer(handler);
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${server.address().port}`;
}

const urls = { pricing: await listen(pricing), catalog: await listen(catalog), database: await listen(database) };
process.stdout.write(`${JSON.stringify(urls)}\n`);
// Exit with the parent.
process.on('disconnect', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

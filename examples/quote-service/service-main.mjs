// Entry point of the quote service's process (started by launcher.mjs). Configuration comes from the
// environment; prints one JSON line { "url": ... } once listening; exits when its parent goes away.
import { startQuoteService } from './service.mjs';

const service = await startQuoteService({
  baseline: process.env.QUOTE_BASELINE === '1',
  token: process.env.QUOTE_ADMIN_TOKEN,
  dependencies: JSON.parse(process.env.QUOTE_DEPENDENCIES),
  ...(process.env.QUOTE_REDIS_URL ? { redisUrl: process.env.QUOTE_REDIS_URL } : {}),
});
process.stdout.write(`${JSON.stringify({ url: service.url })}\n`);
const shutdown = async () => {
  await service.close();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.stdin.on('end', () => void shutdown());
process.stdin.resume();

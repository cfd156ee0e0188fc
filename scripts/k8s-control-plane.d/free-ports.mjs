// Prints N distinct free TCP ports on 127.0.0.1, one a line. All N listeners stay open until every
// port is known, so the ports differ from each other; the caller binds them right after.
import { createServer } from 'node:net';

const count = Number.parseInt(process.argv[2] ?? '1', 10);
if (!Number.isInteger(count) || count < 1 || count > 64) {
  process.stderr.write(`free-ports: expected a count from 1 to 64, got ${process.argv[2]}\n`);
  process.exit(2);
}

const listen = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });

const servers = [];
for (let i = 0; i < count; i++) servers.push(await listen());
const ports = servers.map((s) => s.address().port);
await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
process.stdout.write(`${ports.join('\n')}\n`);

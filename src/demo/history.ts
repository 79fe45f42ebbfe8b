// The demo's data: the Property application's files, its authors, the commits of its history (main up to the
// v1.3.0 release, then develop), the demo checklist and its scripts. Pure data and the small in-memory tree the
// commits change; src/demo/sandbox.ts turns it into a git repository.
import { DEMO_SENIOR } from './mode.js';
import { migrationTemplate, slugify } from '../adapters/migrate/files.js';

interface Author {
  name: string;
  email: string;
  tz: string;
}

export const ANA: Author = { name: 'Ana Souza', email: 'ana@property.example', tz: '+0100' };
/** Ben is also the demo's senior developer, who approves a production deploy (mode.ts, `approvers:` below). */
const BEN: Author = { ...DEMO_SENIOR, tz: '+0000' };
const CHLOE: Author = { name: 'Chloe Martin', email: 'chloe@property.example', tz: '+0100' };
const DEV: Author = { name: 'Dev Patel', email: 'dev@property.example', tz: '+0530' };
const BOT: Author = { name: 'dependabot[bot]', email: '49699333+dependabot[bot]@users.noreply.github.com', tz: '+0000' };

/** The files of the application at one commit. package.json and setup.py are made from `pkg` and `py`. */
export class Tree {
  files = new Map<string, string>();
  pkg = {
    name: 'property-frontend',
    version: '1.2.0',
    private: true,
    type: 'module',
    scripts: { dev: 'vite', build: 'vite build', test: 'vitest run' } as Record<string, string>,
    dependencies: { react: '18.2.0', 'react-dom': '18.2.0' } as Record<string, string>,
    devDependencies: { vite: '5.2.0', vitest: '1.6.0' } as Record<string, string>,
  };
  py = { version: '1.2.0', requires: ['django==4.2.11', 'requests==2.31.0'] };
  /** The date of the commit being made (YYYY-MM-DD), for the changelog. */
  today = '';

  write(file: string, text: string): void {
    this.files.set(file, text);
  }
  append(file: string, text: string): void {
    this.files.set(file, (this.files.get(file) ?? '') + text);
  }
  edit(file: string, from: string, to: string): void {
    const text = this.files.get(file);
    if (text === undefined || !text.includes(from)) throw new Error(`demo sandbox history: ${file} has no ${JSON.stringify(from)}`);
    this.files.set(file, text.replace(from, to));
  }
  release(version: string): void {
    this.pkg.version = version;
    this.py.version = version;
  }
  render(): Map<string, string> {
    const all = new Map(this.files);
    all.set('frontend/package.json', JSON.stringify(this.pkg, null, 2) + '\n');
    all.set(
      'backend/setup.py',
      'from setuptools import find_packages, setup\n\nsetup(\n    name="property-backend",\n' +
        `    version="${this.py.version}",\n    packages=find_packages(),\n    install_requires=[\n` +
        this.py.requires.map((r) => `        "${r}",\n`).join('') +
        '    ],\n)\n',
    );
    return all;
  }
}

interface CommitSpec {
  author: Author;
  subject: string;
  body?: string;
  change(t: Tree): void;
}

const DEMO_CHECKLIST = `id: demo
title: Demo release of the Property app
description: >-
  A short tour of the cockpit on a throwaway repository of the Property app (frontend/ and backend/):
  release develop's work with a version, to staging or production.
params:
  version: {type: semver, default: 1.4.0, description: "Version to release"}
  environment: {type: enum, choices: [staging, production], default: staging}
steps:
  - id: clean-tree
    title: Check the work tree is clean
    kind: run
    run: git status --short --untracked-files=no && test -z "$(git status --porcelain --untracked-files=no)"
    help: >-
      Nothing uncommitted may ride along with a release: the files listed (if any) are changed but not committed;
      commit or stash them, then cockpit resume.
  - id: freeze
    title: Code freeze on develop
    kind: confirm
    help: Tell the team that develop is frozen for this release; only fixes for the release go in until it is out.
    prompt: Is develop frozen?
  - id: tests
    title: Run the test suite
    kind: run
    run: ./scripts/test.sh
    timeout: 2m
    help: The full suite must pass before anything is tagged. A failure stops here; fix it, then cockpit resume.
  - id: changes
    title: Changes since the last release
    kind: run
    run: git log --oneline "$(git describe --tags --abbrev=0)"..HEAD
    help: What this release brings, from the conventional commits since the last tag; read it for surprises.
  - id: version-files
    title: Versions in the source files
    kind: run
    run: ./scripts/versions.sh
    help: >-
      Shows the version in frontend/package.json and backend/setup.py beside the version being released
      (read-only: nothing is changed).
  - id: approval
    title: Approval from a senior developer
    kind: approve
    role: senior
    when: {environment: production}
    help: >-
      Production needs a senior developer's approval (approvers: in cockpit.config.yaml names Ben): the step waits
      until Ben runs cockpit approve <session> from his own shell. In the demo, A gives it as Ben. Staging does not
      need it, so this step is skipped there.
  - id: deploy
    title: Deploy
    kind: run
    run: ["./scripts/deploy.sh", "deploy", "\${version}", "--env", "\${environment}"]
    help: >-
      Deploys by running the repository's deploy script (parameters are passed as arguments, never as shell text):
      the Property app at this version on the idle colour of a blue/green pair behind HAProxy on this machine
      (the first deploy of an environment goes live; see it with ./scripts/deploy.sh status --env <environment>).
  - id: announce
    title: Announce the release
    kind: confirm
    help: Post the release notes (the changes above) in the team channel.
    prompt: Are the release notes posted?
`;

const TEST_SH = `#!/bin/sh
# The Property test suite (a stand-in: the demo's tests always pass).
for t in listings search booking payments accounts; do
  echo "ok - $t"
  sleep 0.2
done
echo "5 passed, 0 failed"
`;

const DEPLOY_SH = `#!/bin/sh
# The Property deploy script, on the cockpit's deploy contract:
#   scripts/deploy.sh deploy <version> --env E [--colour blue|green]   to the idle colour; the live one keeps serving
#   scripts/deploy.sh switch <colour> --env E                          traffic to that colour, verified
#   scripts/deploy.sh rollback <version> --env E                       back to a version (switch back, or redeploy)
#   scripts/deploy.sh status --env E [--json]                          the live colour, each colour's version and health
#   scripts/deploy.sh stop --env E                                     stop the environment's processes
# production is blue-green; every other environment (staging) is in-place: its deploy makes the version live (no switch).
# Each environment is a blue/green pair of Property app processes behind HAProxy, on loopback ports of this machine;
# the state is in .cockpit/bluegreen/<env>/. The app and its driver are in .sandbox/bluegreen/ (cockpit demo puts them there).
cd "$(dirname "$0")/.." || exit 1
if [ ! -f .sandbox/bluegreen/demo-deploy.mjs ]; then
  echo "deploy.sh: .sandbox/bluegreen/demo-deploy.mjs is missing: make the sandbox anew with cockpit demo --reset" >&2
  exit 1
fi
exec node .sandbox/bluegreen/demo-deploy.mjs "$@"
`;

/**
 * The sandbox's cockpit settings: the deploy: section drives the demo's real target (scripts/deploy.sh: staging
 * in-place, production blue-green, as that script has it). Its URLs are loopback ports chosen when the target starts,
 * so none is written here: the cockpit takes them from `./scripts/deploy.sh status --env E --json`.
 */
const DEMO_SMOKE = `    smoke:
      - {name: health, path: /health, json: {path: status, equals: ok}, maxLatency: 2s}
      - {name: version, path: /version, json: {path: version, equals: "\${version}"}}
      - {name: listings, path: /api/listings, contains: '"listings"'}
`;

/** The demo's status page (the demo's receiver serves it: src/demo/receivers.ts): its page id and components. */
export const DEMO_STATUSPAGE = {
  page: 'property',
  components: [
    { id: 'website', name: 'Property website' },
    { id: 'payments', name: 'Payments' },
  ],
};

/**
 * Where the notify steps post (the communication checklist, the rollback notice): the demo's own chat webhook and
 * status page on this machine. Their URLs and the key change at every start, so none is here: cockpit demo writes
 * them to cockpit.local.yaml (not committed); without it (the demo's services not started) the environment
 * variables named here are not set and nothing is sent anywhere.
 */
const DEMO_NOTIFY = `# Where the notify steps post: the demo's chat and status page on this machine (cockpit demo --messages shows
# what they got). Their URLs and key change at every start: cockpit demo writes them to cockpit.local.yaml.
notify:
  chat:
    type: slack
    url: {env: DEMO_CHAT_WEBHOOK_URL}
    attempts: 2
  statuspage:
    type: statuspage
    page: ${DEMO_STATUSPAGE.page}
    apiKey: {env: DEMO_STATUSPAGE_API_KEY}
    components: [${DEMO_STATUSPAGE.components.map((c) => c.id).join(', ')}]
    attempts: 2
`;

/** Who approves a production deploy: Ben, the demo's senior developer (never the operator). */
const DEMO_APPROVERS = `# Who may approve a production deploy (deploy-production's approve step): a senior developer who is not the
# operator, from their own shell (cockpit approve <session>). In the demo, A on the waiting screen approves as Ben.
approvers:
  senior: [${BEN.email}]
  timeout: 30m
`;

/** The demo's short watch (the policy's is an hour at 15 s against the hour before): said when the demo starts. */
export const DEMO_WATCH = { interval: '1s', duration: '2m', baseline: '2m', window: '30s' } as const;

export const COCKPIT_CONFIG = `# cockpit settings (see the cockpit README)
secrets:
  env: [DEPLOY_TOKEN]
# How the cockpit deploys (the build, deploy, switch, rollback and smoke steps). scripts/deploy.sh runs the demo's
# target on this machine; the URLs are what its status --json reports (loopback ports chosen when it starts).
deploy:
  staging:
    strategy: in-place
    command: ./scripts/deploy.sh
    build: [./scripts/build.sh]
${DEMO_SMOKE}  production:
    strategy: blue-green
    command: ./scripts/deploy.sh
    keepPrevious: 30m
    build: [./scripts/build.sh]
${DEMO_SMOKE}# The test suite the deploy checklists run first ("Run tests").
verify:
  tests: [./scripts/test.sh]
# The post-deploy watch (cockpit watch, and the watch after a production deploy): the policy's alert thresholds,
# read from the Prometheus cockpit demo starts. These are the demo's short windows, so that the story fits in a few
# minutes: a 2-minute watch polled every second, judged against the 2 minutes before the deploy, rates over 30 s.
# The policy's watch is an hour (a real project keeps the defaults: 1h, every 15s, against the hour before, 5m rates).
# No Prometheus URL here: its port is chosen at each start, so cockpit demo writes it to cockpit.local.yaml.
watch:
  vars:
    # Prometheus's job of production's app processes (both colours; staging's is property-staging).
    job: property-production
    # The database host's CPU (node_cpu_seconds_total): the demo's database runs on this machine, whose CPU the
    # same app processes report; a real project points this at node_exporter on the database host.
    dbJob: property-production
  interval: ${DEMO_WATCH.interval}
  duration: ${DEMO_WATCH.duration}
  baseline: ${DEMO_WATCH.baseline}
  window: ${DEMO_WATCH.window}
  # Said as what it is here: the host's CPU, which on a busy machine (other work, a CI runner) can pass 80%.
  signals:
    db_cpu: {title: database host CPU (this machine)}
  rules:
    - {id: db_cpu_high, title: Database host CPU over 80% (this machine)}
# The app's PostgreSQL: one database per environment, property_staging (staging) and property (production), on
# the demo's server. Their URLs depend on the port it got, so cockpit demo writes them in cockpit.local.yaml at every
# start: database.environments.staging.url and .production.url, which --env and the steps' env: pick (deploy-staging
# migrates staging's, deploy-production backs up and migrates production's), and database.url (with DATABASE_URL)
# = production, for a command without --env. Backups (cockpit db backup) go here, ignored by git.
database:
  backups: .cockpit/backups
${DEMO_NOTIFY}${DEMO_APPROVERS}`;

const BUILD_SH = `#!/bin/sh
# Builds the Property release artifact, no Docker needed: a tarball of the app at <version> (its tag v<version> when
# there is one, else HEAD) in .cockpit/artifacts/. The last line names it; the cockpit records it with its sha256.
set -e
[ -n "$1" ] || { echo "usage: scripts/build.sh <version>" >&2; exit 2; }
cd "$(dirname "$0")/.."
ref=HEAD
if git rev-parse -q --verify "refs/tags/v$1" >/dev/null; then ref="v$1"; fi
mkdir -p .cockpit/artifacts
out=".cockpit/artifacts/property-$1.tar.gz"
git archive --format=tar.gz --prefix="property-$1/" -o "$out" "$ref"
echo "built Property $1 from $ref ($(git rev-parse --short "$ref"))"
echo "artifact: $out"
`;

const RESTORE_DB_SH = `#!/bin/sh
# Usage: scripts/restore_db.sh <backup_id|latest>   (the policy's restore from backup)
# Restores the Property database from a backup taken by cockpit db backup (in .cockpit/backups: a pg_dump -Fc dump and
# its manifest) with the cockpit's own restore: it refuses a dump whose sha256 is not its manifest's or a backup of
# another database, runs pg_restore --clean --if-exists --no-owner, then checks every table's row count against the
# manifest. The database is DATABASE_URL (cockpit demo sets it, with COCKPIT_JS, the cockpit that runs the demo).
[ -n "$1" ] || { echo "usage: scripts/restore_db.sh <backup_id|latest>" >&2; exit 2; }
cd "$(dirname "$0")/.." || exit 1
if [ -z "$COCKPIT_JS" ]; then
  echo "restore_db.sh: COCKPIT_JS is not set: run it from the cockpit demo, or set COCKPIT_JS to the cockpit's bin/cockpit.js" >&2
  exit 2
fi
if [ -z "$DATABASE_URL" ]; then
  echo "restore_db.sh: DATABASE_URL is not set: the demo's PostgreSQL is not running (see what cockpit demo said when it started)" >&2
  exit 2
fi
exec node "$COCKPIT_JS" --repo . db restore "$1" --yes
`;

const VERSIONS_SH = `#!/bin/sh
# Prints the versions written in the source files (reads only).
frontend=$(grep -m1 '"version"' frontend/package.json | cut -d'"' -f4)
backend=$(grep -m1 'version=' backend/setup.py | cut -d'"' -f2)
echo "frontend/package.json  \${frontend:-none found}"
echo "backend/setup.py       \${backend:-none found}"
[ -n "$COCKPIT_PARAM_VERSION" ] && echo "to be released         $COCKPIT_PARAM_VERSION"
exit 0
`;

/**
 * A migration file as `cockpit migrate create` writes it (its template, so `cockpit migrate check` knows it as the
 * tool's), with the up and down sections filled in. Ids are fixed: the released ones are older than develop's.
 */
function migration(id: string, description: string, up: string, down: string, noTransaction = false): [string, string] {
  const text = migrationTemplate(description, noTransaction)
    .replace('-- migrate:up\n\n', `-- migrate:up\n${up}`)
    .replace(
      '-- Undo everything the up section did, in reverse order.\n\n',
      `-- Undo everything the up section did, in reverse order.\n${down}`,
    );
  return [`migrations/${id}_${slugify(description)}.sql`, text];
}

/** The Property database at v1.2.0: listings (2000 homes, so later migrations and backfills have rows) and payments. */
const MIGRATION_SCHEMA = migration(
  '20260302091500',
  'create listings and payments',
  `SET lock_timeout = '5s';
CREATE TABLE listings (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  city text NOT NULL,
  title text NOT NULL,
  price_per_night integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE payments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  listing_id bigint NOT NULL REFERENCES listings (id),
  amount_cents integer NOT NULL,
  result text NOT NULL CHECK (result IN ('ok', 'failed')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_listing_id_idx ON payments (listing_id);
INSERT INTO listings (city, title, price_per_night)
  SELECT (ARRAY['Lisbon', 'Porto', 'Faro', 'Braga', 'Évora'])[1 + i % 5], 'Home ' || i, 4000 + (i * 37) % 16000
  FROM generate_series(1, 2000) AS i;
`,
  `DROP TABLE payments;
DROP TABLE listings;
`,
);

/** v1.3.0: the card brand of each payment (nullable: the code before it keeps inserting without it). */
const MIGRATION_CARD_BRAND = migration(
  '20260318143000',
  'add card brand to payments',
  `SET lock_timeout = '5s';
ALTER TABLE payments ADD COLUMN card_brand text;
`,
  `SET lock_timeout = '5s';
ALTER TABLE payments DROP COLUMN card_brand;
`,
);

/** The newest migration of the released version (v1.3.0): the demo's database starts there. */
export const RELEASED_MIGRATION = '20260318143000';

/**
 * On develop (v1.4.0): saved searches and a normalised city key on listings (a schema change: nullable, no
 * rewrite), its index built concurrently (no lock on writes), and a backfill of the key in batches
 * (migrations/backfills/listings_city_key.yaml, `cockpit migrate backfill listings_city_key`).
 */
const MIGRATION_SAVED_SEARCHES = migration(
  '20261120101500',
  'add saved searches and a city key to listings',
  `SET lock_timeout = '5s';
CREATE TABLE saved_searches (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL,
  city_key text NOT NULL,
  max_price integer,
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE listings ADD COLUMN city_key text;
`,
  `SET lock_timeout = '5s';
ALTER TABLE listings DROP COLUMN city_key;
DROP TABLE saved_searches;
`,
);

const MIGRATION_CITY_KEY_INDEX = migration(
  '20261120101600',
  'index listings by city key',
  `SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS listings_city_key_idx ON listings (city_key);
`,
  `SET lock_timeout = '5s';
DROP INDEX CONCURRENTLY IF EXISTS listings_city_key_idx;
`,
  true,
);

const BACKFILL_CITY_KEY = `# The city key of the listings made before it existed (lower-case city), in batches: cockpit migrate backfill listings_city_key
table: listings
key: id
set: "city_key = lower(city)"
where: "city_key IS NULL"
batchSize: 500
pauseMs: 0
`;

/** backend/property/listings.py's search once price filters are added (a later commit refactors it). */
const SEARCH_BY_PRICE = `def search(listings, city=None, min_price=None, max_price=None):
    found = [l for l in listings if city is None or l.city == city]
    if min_price is not None:
        found = [l for l in found if l.price_per_night >= min_price]
    if max_price is not None:
        found = [l for l in found if l.price_per_night <= max_price]
    return found
`;

export const HISTORY: CommitSpec[] = [
  {
    author: ANA,
    subject: 'chore: import the Property app',
    change(t) {
      t.write('.gitignore', 'node_modules/\ndist/\n__pycache__/\n*.egg-info/\n');
      t.write(...MIGRATION_SCHEMA);
      t.write(
        'README.md',
        '# Property\n\nA property-listing web app: guests search listings, book stays and pay; hosts list their homes.\n\n' +
          '- `frontend/`: the web client (JavaScript)\n- `backend/`: the API (Python)\n' +
          '- `scripts/test.sh`: the test suite\n',
      );
      t.write('CHANGELOG.md', '# Changelog\n\n## 1.2.0\n\n- Search listings by city.\n- Book a stay and pay by card.\n');
      t.write('scripts/test.sh', TEST_SH);
      t.write(
        'frontend/src/api.js',
        `// Calls to the Property API.
export async function api(path, options = {}) {
  const res = await fetch('/api' + path, { headers: { 'content-type': 'application/json' }, ...options });
  if (!res.ok) throw new Error(res.status + ' ' + res.statusText);
  return res.json();
}
`,
      );
      t.write(
        'frontend/src/search.js',
        `// The search box of the listings page.
import { api } from './api.js';

export async function searchListings(query) {
  const params = new URLSearchParams({ city: query.city ?? '' });
  return api('/listings?' + params);
}
`,
      );
      t.write(
        'frontend/src/booking.js',
        `// The booking form of a listing.
import { api } from './api.js';

export function nights(checkIn, checkOut) {
  return Math.round((new Date(checkOut) - new Date(checkIn)) / 86_400_000);
}

export function changeDates(form, checkIn, checkOut) {
  return { checkIn, checkOut, guests: 1 };
}

export async function book(listingId, form) {
  return api('/listings/' + listingId + '/bookings', { method: 'POST', body: JSON.stringify(form) });
}
`,
      );
      t.write('backend/property/__init__.py', '"""The Property backend: listings, bookings and payments."""\n');
      t.write(
        'backend/property/listings.py',
        `"""Listings: the homes guests can book."""
from dataclasses import dataclass


@dataclass
class Listing:
    id: int
    city: str
    title: str
    price_per_night: int  # in cents


def search(listings, city=None):
    return [l for l in listings if city is None or l.city == city]
`,
      );
      t.write(
        'backend/property/bookings.py',
        `"""Bookings of listings."""
from datetime import date


def nights(check_in: date, check_out: date) -> int:
    return (check_out - check_in).days
`,
      );
      t.write(
        'backend/property/payments.py',
        `"""Card payments for bookings."""


def charge(gateway, booking, amount_cents):
    return gateway.charge(card=booking.card_token, amount=amount_cents, currency="EUR")


def refund(gateway, payment, amount_cents):
    return gateway.refund(payment.id, amount=amount_cents)
`,
      );
    },
  },
  {
    author: BEN,
    subject: 'ci: add the release checklist and the deploy script',
    body: 'Releases are run with the cockpit: checklists/demo.yaml.',
    change(t) {
      t.write('checklists/demo.yaml', DEMO_CHECKLIST);
      t.write('cockpit.config.yaml', COCKPIT_CONFIG);
      t.write('scripts/deploy.sh', DEPLOY_SH);
      t.write('scripts/build.sh', BUILD_SH);
      t.write('scripts/versions.sh', VERSIONS_SH);
      t.write('scripts/restore_db.sh', RESTORE_DB_SH);
      // cockpit.local.yaml: what cockpit demo writes at each start (its services' ports, the chat token and the
      // status-page key), never committed.
      t.append('.gitignore', '.cockpit/\n.sandbox/\ncockpit.local.yaml\n');
      t.append(
        'README.md',
        '- `scripts/deploy.sh deploy <version> --env <environment>`: deploys to the idle colour (`switch`, `rollback <version>`, `status --json`: see the script)\n- `scripts/build.sh <version>`: builds the release artifact (a tarball, no Docker needed)\n- `scripts/restore_db.sh <backup_timestamp>`: restores the database from a backup\n- `checklists/demo.yaml`: the release checklist (`cockpit run demo`)\n',
      );
    },
  },
  {
    author: CHLOE,
    subject: 'feat(search): filter listings by price range',
    change(t) {
      t.edit(
        'frontend/src/search.js',
        "  return api('/listings?'",
        "  if (query.minPrice) params.set('min_price', query.minPrice);\n  if (query.maxPrice) params.set('max_price', query.maxPrice);\n  return api('/listings?'",
      );
      t.edit(
        'backend/property/listings.py',
        'def search(listings, city=None):\n    return [l for l in listings if city is None or l.city == city]\n',
        SEARCH_BY_PRICE,
      );
    },
  },
  {
    author: DEV,
    subject: 'fix(booking): reject a check-out date before the check-in date',
    body: 'Closes #41.',
    change(t) {
      t.edit(
        'frontend/src/booking.js',
        'export function nights(checkIn, checkOut) {\n',
        "export function nights(checkIn, checkOut) {\n  if (new Date(checkOut) <= new Date(checkIn)) throw new Error('Check-out must be after check-in');\n",
      );
      t.edit(
        'backend/property/bookings.py',
        '    return (check_out - check_in).days\n',
        '    if check_out <= check_in:\n        raise ValueError("check-out must be after check-in")\n    return (check_out - check_in).days\n',
      );
    },
  },
  {
    author: DEV,
    subject: 'test(booking): cover the date checks',
    change(t) {
      t.write(
        'backend/tests/test_bookings.py',
        `from datetime import date

import pytest

from property.bookings import nights


def test_nights():
    assert nights(date(2024, 7, 1), date(2024, 7, 4)) == 3


def test_check_out_before_check_in():
    with pytest.raises(ValueError):
        nights(date(2024, 7, 4), date(2024, 7, 1))
`,
      );
    },
  },
  {
    author: BOT,
    subject: 'chore(deps): bump react from 18.2.0 to 18.3.1 in /frontend',
    change(t) {
      t.pkg.dependencies.react = '18.3.1';
      t.pkg.dependencies['react-dom'] = '18.3.1';
    },
  },
  {
    author: ANA,
    subject: 'docs: describe the local setup',
    change(t) {
      t.append(
        'README.md',
        '\n## Local setup\n\n```sh\ncd frontend && npm install && npm run dev\ncd backend && pip install -e . && python -m property\n```\n',
      );
    },
  },
  {
    author: BEN,
    subject: 'feat(payments): store the card brand with each payment',
    change(t) {
      t.edit(
        'backend/property/payments.py',
        '    return gateway.charge(card=booking.card_token, amount=amount_cents, currency="EUR")\n',
        '    result = gateway.charge(card=booking.card_token, amount=amount_cents, currency="EUR")\n' +
          '    return {"id": result.id, "amount": amount_cents, "brand": result.card_brand}\n',
      );
      t.write(...MIGRATION_CARD_BRAND);
    },
  },
  {
    author: CHLOE,
    subject: 'perf(search): debounce the search box',
    body: 'One request per pause in typing instead of one per key.',
    change(t) {
      t.append(
        'frontend/src/search.js',
        `
export function debounce(fn, ms = 250) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
`,
      );
    },
  },
  {
    author: DEV,
    subject: 'refactor(listings): one filter function for every search criterion',
    change(t) {
      t.edit(
        'backend/property/listings.py',
        SEARCH_BY_PRICE,
        `def _matches(listing, city=None, min_price=None, max_price=None):
    return (
        (city is None or listing.city == city)
        and (min_price is None or listing.price_per_night >= min_price)
        and (max_price is None or listing.price_per_night <= max_price)
    )


def search(listings, **criteria):
    return [l for l in listings if _matches(l, **criteria)]
`,
      );
    },
  },
  {
    author: BEN,
    subject: 'fix(payments): round partial refunds to the cent',
    change(t) {
      t.edit('backend/property/payments.py', 'amount=amount_cents)\n', 'amount=int(round(amount_cents)))\n');
    },
  },
  {
    author: ANA,
    subject: 'chore(release): 1.3.0',
    change(t) {
      t.release('1.3.0');
      t.edit(
        'CHANGELOG.md',
        '# Changelog\n\n',
        `# Changelog

## 1.3.0 (${t.today})

### Features

- search: filter listings by price range
- payments: store the card brand with each payment

### Fixes

- booking: reject a check-out date before the check-in date
- payments: round partial refunds to the cent

### Performance

- search: debounce the search box

`,
      );
    },
  },
  // ---- after v1.3.0
  {
    author: CHLOE,
    subject: 'feat(search): sort listings by distance',
    change(t) {
      t.edit(
        'frontend/src/search.js',
        "  return api('/listings?'",
        "  if (query.near) params.set('near', query.near.lat + ',' + query.near.lng);\n  return api('/listings?'",
      );
      t.edit(
        'backend/property/listings.py',
        '    price_per_night: int  # in cents\n',
        '    price_per_night: int  # in cents\n    lat: float = 0.0\n    lng: float = 0.0\n',
      );
      t.append(
        'backend/property/listings.py',
        `

def by_distance(listings, lat, lng):
    return sorted(listings, key=lambda l: (l.lat - lat) ** 2 + (l.lng - lng) ** 2)
`,
      );
    },
  },
  {
    author: DEV,
    subject: 'fix(booking): keep the number of guests when the dates change',
    body: 'Closes #57.',
    change(t) {
      t.edit('frontend/src/booking.js', 'return { checkIn, checkOut, guests: 1 };', 'return { ...form, checkIn, checkOut };');
    },
  },
  {
    author: BOT,
    subject: 'chore(deps): bump requests from 2.31.0 to 2.32.3 in /backend',
    change(t) {
      t.py.requires = t.py.requires.map((r) => (r.startsWith('requests==') ? 'requests==2.32.3' : r));
    },
  },
  {
    author: ANA,
    subject: 'docs(changelog): open the Unreleased section',
    change(t) {
      t.edit('CHANGELOG.md', '# Changelog\n\n', '# Changelog\n\n## Unreleased\n\n');
    },
  },
  {
    author: CHLOE,
    subject: 'feat(listings): photo gallery on the listing page',
    change(t) {
      t.write(
        'frontend/src/gallery.js',
        `// The photo gallery of the listing page.
export function gallery(photos, start = 0) {
  let index = start;
  return {
    current: () => photos[index],
    next: () => photos[(index = (index + 1) % photos.length)],
    previous: () => photos[(index = (index - 1 + photos.length) % photos.length)],
  };
}
`,
      );
      t.edit('backend/property/listings.py', 'from dataclasses import dataclass\n', 'from dataclasses import dataclass, field\n');
      t.edit(
        'backend/property/listings.py',
        '    lng: float = 0.0\n',
        '    lng: float = 0.0\n    photos: list = field(default_factory=list)\n',
      );
    },
  },
  {
    author: DEV,
    subject: 'refactor(booking): move the price of a stay to its own module',
    change(t) {
      t.write(
        'frontend/src/price.js',
        `// The price of a stay, in cents.
export function stayPrice(pricePerNight, nights, cleaningFee = 0) {
  return pricePerNight * nights + cleaningFee;
}
`,
      );
      t.edit(
        'frontend/src/booking.js',
        "import { api } from './api.js';\n",
        "import { api } from './api.js';\nimport { stayPrice } from './price.js';\n",
      );
      t.append(
        'frontend/src/booking.js',
        `
export function total(listing, form) {
  return stayPrice(listing.pricePerNight, nights(form.checkIn, form.checkOut), listing.cleaningFee);
}
`,
      );
    },
  },
  {
    author: BEN,
    subject: 'perf(listings): count the listings of a city once',
    change(t) {
      t.append(
        'backend/property/listings.py',
        `

_counts = {}


def count_in_city(listings, city):
    if city not in _counts:
        _counts[city] = sum(1 for l in listings if l.city == city)
    return _counts[city]
`,
      );
    },
  },
  {
    author: CHLOE,
    subject: 'fix(search): no results for a city name with an accent',
    body: 'Mac keyboards send decomposed accents: normalise the query.',
    change(t) {
      t.edit('frontend/src/search.js', "city: query.city ?? ''", "city: (query.city ?? '').normalize('NFC')");
    },
  },
  {
    author: BEN,
    subject: 'feat(payments): take a 30% deposit at booking',
    change(t) {
      t.append(
        'backend/property/payments.py',
        `

DEPOSIT_RATE = 0.30


def deposit(gateway, booking, total_cents):
    return charge(gateway, booking, round(total_cents * DEPOSIT_RATE))
`,
      );
      t.append('frontend/src/booking.js', '\nexport const DEPOSIT_RATE = 0.3;\n');
    },
  },
  {
    author: BEN,
    subject: 'test(payments): deposits and refunds',
    change(t) {
      t.write(
        'backend/tests/test_payments.py',
        `from types import SimpleNamespace

from property.payments import deposit, refund


class FakeGateway:
    def charge(self, card, amount, currency):
        return SimpleNamespace(id="ch_1", card_brand="visa", status="ok", amount=amount)

    def refund(self, payment_id, amount):
        return SimpleNamespace(id="re_1", amount=amount)


def test_deposit_is_30_percent():
    booking = SimpleNamespace(card_token="tok")
    assert deposit(FakeGateway(), booking, 10_000)["amount"] == 3_000


def test_refund_rounds_to_the_cent():
    assert refund(FakeGateway(), SimpleNamespace(id="ch_1"), 1234.6).amount == 1235
`,
      );
    },
  },
  {
    author: BOT,
    subject: 'chore(deps): bump vite from 5.2.0 to 5.4.8 in /frontend',
    change(t) {
      t.pkg.devDependencies.vite = '5.4.8';
    },
  },
  {
    author: BEN,
    subject: 'fix(payments): retry a declined card once',
    body: 'Card issuers decline a first attempt now and then; a second one usually passes.',
    change(t) {
      t.edit(
        'backend/property/payments.py',
        `def charge(gateway, booking, amount_cents):
    result = gateway.charge(card=booking.card_token, amount=amount_cents, currency="EUR")
    return {"id": result.id, "amount": amount_cents, "brand": result.card_brand}
`,
        `def charge(gateway, booking, amount_cents, retries=1):
    for attempt in range(retries + 1):
        result = gateway.charge(card=booking.card_token, amount=amount_cents, currency="EUR")
        if result.status != "declined" or attempt == retries:
            break
    return {"id": result.id, "amount": amount_cents, "brand": result.card_brand, "status": result.status}
`,
      );
    },
  },
  {
    author: CHLOE,
    subject: 'build(frontend): source maps in production builds',
    change(t) {
      t.pkg.scripts.build = 'vite build --sourcemap';
    },
  },
  {
    author: ANA,
    subject: 'docs: how a release is made',
    change(t) {
      t.append(
        'README.md',
        '\n## Releases\n\nWith the cockpit: `cockpit run demo -p version=X.Y.Z -p environment=staging`, then production.\n',
      );
    },
  },
  {
    author: DEV,
    subject: 'feat(booking): e-mail a confirmation to the guest',
    change(t) {
      t.write(
        'backend/property/notifications.py',
        `"""E-mails to guests and hosts."""


def booking_confirmation(booking):
    return {
        "to": booking.guest_email,
        "subject": f"Your stay in {booking.listing.city} is booked",
        "body": f"{booking.nights} nights from {booking.check_in:%d %B %Y}.",
    }
`,
      );
    },
  },
  {
    author: CHLOE,
    subject: 'fix(listings): hide listings that have no price yet',
    change(t) {
      t.edit(
        'backend/property/listings.py',
        '    return (\n        (city is None',
        '    return (\n        listing.price_per_night > 0\n        and (city is None',
      );
    },
  },
];

/** On develop only: work for the next release. */
export const DEVELOP: CommitSpec[] = [
  {
    author: CHLOE,
    subject: 'feat(search): save a search and get an alert for new listings',
    change(t) {
      t.append(
        'frontend/src/search.js',
        `
export async function saveSearch(query) {
  return api('/alerts', { method: 'POST', body: JSON.stringify(query) });
}
`,
      );
      t.write(
        'backend/property/alerts.py',
        `"""Saved searches: guests get an alert when a new listing matches."""
from .listings import search


def new_matches(saved_criteria, new_listings):
    return search(new_listings, **saved_criteria)
`,
      );
      t.write(...MIGRATION_SAVED_SEARCHES);
      t.write(...MIGRATION_CITY_KEY_INDEX);
      t.write('migrations/backfills/listings_city_key.yaml', BACKFILL_CITY_KEY);
    },
  },
  {
    author: DEV,
    subject: "fix(booking): check-in time in the listing's time zone",
    change(t) {
      t.append(
        'backend/property/bookings.py',
        `

def check_in_at(day: date, listing_tz: str, hour: int = 15):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(listing_tz))
`,
      );
    },
  },
  {
    author: BOT,
    subject: 'chore(deps): bump django from 4.2.11 to 4.2.16 in /backend',
    change(t) {
      t.py.requires = t.py.requires.map((r) => (r.startsWith('django==') ? 'django==4.2.16' : r));
    },
  },
  {
    author: BEN,
    subject: 'refactor(payments): one gateway client per request',
    change(t) {
      t.append(
        'backend/property/payments.py',
        `

def gateway_for(request):
    if not hasattr(request, "_gateway"):
        request._gateway = request.app.payment_gateway()
    return request._gateway
`,
      );
    },
  },
];

export const RELEASED = { tag: 'v1.3.0', subject: 'chore(release): 1.3.0' };

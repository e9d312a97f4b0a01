// The signed-in shell: navigation, the getting-started overview and the page for the current route.
import { useState } from 'react';
import { gql, setKey } from './api';
import { Card, ErrorBox, KeyValues } from './components/ui';
import { href, useAction, useRoute } from './hooks';
import { DatasetPage, DatasetsPage } from './pages/Datasets';
import { MapPage } from './pages/Map';
import { ModelPage, ModelsPage } from './pages/Models';
import { PlaygroundPage } from './pages/Playground';
import { ComparePage, RunPage, RunsPage } from './pages/Runs';

export const VIEWER = `{ viewer { isOperator tenant { id name } apiKey { id name role prefix } } }`;

export interface Viewer {
  isOperator: boolean;
  tenant: { id: string; name: string } | null;
  apiKey: { id: string; name: string; role: 'ADMIN' | 'MEMBER' | 'READER'; prefix: string } | null;
}

const NAV: Array<[string, string]> = [
  ['', 'Overview'],
  ['datasets', 'Datasets'],
  ['runs', 'Runs'],
  ['models', 'Models'],
  ['map', 'Embedding map'],
  ['playground', 'Playground'],
];

export function App({ viewer, onSignOut, onSwitch }: { viewer: Viewer; onSignOut: () => void; onSwitch: (v: Viewer) => void }) {
  const route = useRoute();
  const page = route[0] ?? '';
  return (
    <div className="shell">
      <aside className="nav">
        <div className="brand">
          <span className="logo">◆</span> Pretext
        </div>
        {!viewer.isOperator && (
          <nav>
            {NAV.map(([path, label]) => (
              <a key={path} href={href(...(path ? [path] : []))} className={page === path ? 'active' : undefined} data-testid={`nav-${path || 'home'}`}>
                {label}
              </a>
            ))}
          </nav>
        )}
        <div className="who" data-testid="viewer">
          {viewer.isOperator ? (
            <div>Platform operator</div>
          ) : (
            <>
              <div className="tenant">{viewer.tenant?.name}</div>
              <div className="muted">
                {viewer.apiKey?.name} · <span data-testid="viewer-role">{viewer.apiKey?.role}</span>
              </div>
            </>
          )}
          <button className="link" onClick={onSignOut} data-testid="signout">
            Sign out
          </button>
        </div>
      </aside>
      <main className="content">{viewer.isOperator ? <OperatorPage onSwitch={onSwitch} /> : <Page route={route} viewer={viewer} />}</main>
    </div>
  );
}

function Page({ route, viewer }: { route: string[]; viewer: Viewer }) {
  const [page, a, b, c] = route;
  switch (page) {
    case 'datasets':
      return a ? <DatasetPage id={a} versionId={b ?? null} /> : <DatasetsPage />;
    case 'runs':
      if (a === 'compare' && b && c) return <ComparePage ids={[b, c]} />;
      return a ? <RunPage id={a} /> : <RunsPage />;
    case 'models':
      return a ? <ModelPage id={a} versionId={b ?? null} /> : <ModelsPage />;
    case 'map':
      return <MapPage spaceId={a ?? null} />;
    case 'playground':
      return <PlaygroundPage initialModel={a ?? null} />;
    default:
      return <Overview viewer={viewer} />;
  }
}

function Overview({ viewer }: { viewer: Viewer }) {
  const steps: Array<[string, string, string]> = [
    ['datasets', '1. Data', 'Create a dataset, upload a file (text, images or sequences) and finalize the version: it is validated, split and sharded.'],
    ['runs', '2. Train', 'Start a pretraining run on a READY version (contrastive, masked or next-step) and watch its loss curve live.'],
    ['models', '3. Model', 'Each successful run registers a model version with an evaluation report. Fine-tune it on labels, then promote the best version to an alias.'],
    ['map', '4. Map', 'Embed a dataset version with a model and look at the space: similar items sit together; click one to see its neighbours.'],
    ['playground', '5. Predict', 'Embed or classify a new image, text or sequence with any version and find its nearest rows.'],
  ];
  return (
    <>
      <h1>Welcome to {viewer.tenant?.name}</h1>
      <p className="muted lead">From unlabeled data to embeddings and predictions, without the command line.</p>
      <div className="steps">
        {steps.map(([path, title, text]) => (
          <a key={path} className="step card" href={href(path)}>
            <h3>{title}</h3>
            <p>{text}</p>
          </a>
        ))}
      </div>
    </>
  );
}

/** The operator key can only manage tenants: create one and sign in with its first ADMIN key. */
function OperatorPage({ onSwitch }: { onSwitch: (v: Viewer) => void }) {
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ name: string; adminKey: string } | null>(null);
  const act = useAction();
  return (
    <>
      <h1>Platform operator</h1>
      <Card title="Create a tenant">
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            void act.run(async () => {
              const d = await gql<{ createTenant: { tenant: { name: string }; adminKey: string } }>(
                `mutation($n: String!) { createTenant(input: { name: $n }) { tenant { id name } adminKey } }`,
                { n: name.trim() },
              );
              setCreated({ name: d.createTenant.tenant.name, adminKey: d.createTenant.adminKey });
              setName('');
            });
          }}
        >
          <input placeholder="acme" value={name} onChange={(e) => setName(e.target.value)} data-testid="tenant-name" />
          <button className="primary" disabled={act.busy || !name.trim()}>
            Create tenant
          </button>
        </form>
        <ErrorBox error={act.error} />
        {created && (
          <div className="notice" data-testid="tenant-created">
            <KeyValues items={[['tenant', created.name], ['first ADMIN key (shown once)', <code className="secret">{created.adminKey}</code>]]} />
            <button
              className="primary"
              onClick={() =>
                void act.run(async () => {
                  const d = await gql<{ viewer: Viewer }>(VIEWER, {}, created.adminKey);
                  setKey(created.adminKey);
                  onSwitch(d.viewer);
                  window.location.hash = '';
                })
              }
            >
              Sign in as {created.name}
            </button>
          </div>
        )}
      </Card>
    </>
  );
}

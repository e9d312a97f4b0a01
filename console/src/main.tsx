// Entry point: the sign-in gate, then the console's pages under a hash route (ids only; the key never goes in a URL).
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiError, clearKey, getKey, gql } from './api';
import { App, type Viewer, VIEWER } from './App';
import { SignIn } from './pages/SignIn';
import './styles.css';

function Root() {
  const [viewer, setViewer] = useState<Viewer | null>(null);
  const [checking, setChecking] = useState(getKey() !== null);

  // A key already in this tab's session storage (a reload): check it is still valid.
  useEffect(() => {
    if (!getKey()) return;
    gql<{ viewer: Viewer }>(VIEWER)
      .then((d) => setViewer(d.viewer))
      .catch((err: unknown) => {
        if (err instanceof ApiError && (err.code === 'UNAUTHENTICATED' || err.code === 'FORBIDDEN')) clearKey();
      })
      .finally(() => setChecking(false));
  }, []);

  if (checking) return <p className="muted center">Connecting…</p>;
  if (!viewer) return <SignIn onSignedIn={setViewer} />;
  return (
    <App
      viewer={viewer}
      onSignOut={() => {
        clearKey();
        setViewer(null);
        window.location.hash = '';
      }}
      onSwitch={setViewer}
    />
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);

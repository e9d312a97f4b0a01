// Sign-in: the key is checked against the server (viewer) before it is kept in this tab's session storage.
import { useState } from 'react';
import { ApiError, gql, setKey } from '../api';
import { VIEWER, type Viewer } from '../App';
import { ErrorBox } from '../components/ui';

export function SignIn({ onSignedIn }: { onSignedIn: (v: Viewer) => void }) {
  const [key, setValue] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const d = await gql<{ viewer: Viewer }>(VIEWER, {}, key.trim());
      setKey(key.trim());
      setValue('');
      onSignedIn(d.viewer);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(String(err), 'INTERNAL'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="signin">
      <form className="card signin-card" onSubmit={submit} data-testid="signin-form">
        <h1>
          <span className="logo">◆</span> Pretext
        </h1>
        <p className="muted">Self-supervised learning as a service. Sign in with an API key: a tenant key, or the platform operator key that `npm start` printed.</p>
        <label>
          API key
          <input
            type="password"
            name="apiKey"
            autoComplete="off"
            spellCheck={false}
            placeholder="pt_…"
            value={key}
            onChange={(e) => setValue(e.target.value)}
            data-testid="signin-key"
            autoFocus
          />
        </label>
        <button type="submit" className="primary" disabled={busy || key.trim() === ''} data-testid="signin-submit">
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <ErrorBox error={error} testId="signin-error" />
        <p className="hint">The key stays in this browser tab (session storage) and is sent only in the Authorization header.</p>
      </form>
    </div>
  );
}

import { useEffect, useState } from 'react';
import { apiFetch, ApiError, getToken, setToken } from '../lib/api.js';
import { useI18n } from '../lib/i18n.js';

/**
 * Sign-in box for officers: username + password (a session that expires, POST /api/auth/login), or a
 * pasted device/CLI token (rekap token create). Either way the token is kept where lib/api.ts reads
 * it, in this browser only; signing out revokes a session on the server too.
 */
const TEXT = {
  needs: ['Halaman ini untuk petugas: masuk dulu', 'This page is for officers: sign in first'],
  username: ['Nama pengguna', 'Username'],
  password: ['Kata sandi', 'Password'],
  signIn: ['Masuk', 'Sign in'],
  signingIn: ['Sedang masuk…', 'Signing in…'],
  orToken: ['atau tempel token perangkat', 'or paste a device token'],
  save: ['Simpan', 'Save'],
  signedIn: ['Masuk sebagai', 'Signed in as'],
  signOut: ['Keluar', 'Sign out'],
  expired: ['Sesi berakhir atau token dicabut: masuk lagi', 'Session ended or token revoked: sign in again'],
} as const;

interface Me { user: { id: number; name: string; role: string; scope: string | null }; tokenKind: string | null }

export function TokenBox({ onChange }: { onChange(): void }) {
  const { lang } = useI18n();
  const tx = (k: keyof typeof TEXT) => TEXT[k][lang === 'en' ? 1 : 0];
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [pasted, setPasted] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [me, setMe] = useState<Me | null>(null);
  const token = getToken();

  useEffect(() => {
    if (!token) {
      setMe(null);
      return;
    }
    let live = true;
    apiFetch<Me>('/api/auth/me')
      .then((m) => live && setMe(m))
      .catch((err: unknown) => {
        if (!live) return;
        // A dead token is dropped so the officer sees the sign-in form, not silent 401s.
        if (err instanceof ApiError && err.status === 401) {
          setToken(null);
          setError(tx('expired'));
          onChange();
        }
      });
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [token]);

  const use = (t: string) => {
    setToken(t);
    setError(null);
    setPassword('');
    setPasted('');
    onChange();
  };

  if (token)
    return (
      <div className="token-box" data-testid="signed-in">
        <span className="muted">
          {tx('signedIn')} {me ? `${me.user.name} (${me.user.role}${me.user.scope ? `, ${me.user.scope}` : ''})` : '…'}
        </span>{' '}
        <button
          type="button"
          onClick={async () => {
            if (me?.tokenKind === 'session') await apiFetch('/api/auth/logout', { method: 'POST' }).catch(() => {});
            setToken(null);
            setMe(null);
            onChange();
          }}
        >
          {tx('signOut')}
        </button>
      </div>
    );

  return (
    <div className="token-box card">
      <p>{tx('needs')}</p>
      <form
        data-testid="login-form"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!username.trim() || !password) return;
          setBusy(true);
          setError(null);
          try {
            const r = await apiFetch<{ token: string }>('/api/auth/login', { method: 'POST', body: JSON.stringify({ username: username.trim(), password }) });
            use(r.token);
          } catch (err) {
            setError(err instanceof ApiError ? err.message : String(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <label>
          {tx('username')} <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="username" data-testid="login-username" />
        </label>{' '}
        <label>
          {tx('password')} <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" data-testid="login-password" />
        </label>{' '}
        <button type="submit" disabled={busy} data-testid="login-submit">
          {busy ? tx('signingIn') : tx('signIn')}
        </button>
      </form>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (pasted.trim()) use(pasted.trim());
        }}
      >
        <label>
          {tx('orToken')}{' '}
          <input type="password" value={pasted} onChange={(e) => setPasted(e.target.value)} autoComplete="off" data-testid="token-input" placeholder="rk_…" />
        </label>{' '}
        <button type="submit">{tx('save')}</button>
      </form>
      {error && (
        <p className="error" role="alert" data-testid="login-error">
          {error}
        </p>
      )}
    </div>
  );
}

import { useState } from 'react';
import { getToken, setToken } from '../lib/api.js';
import { useI18n } from '../lib/i18n.js';

/** Officer token (from `rekap token create`), kept in this browser only. */
export function TokenBox({ onChange }: { onChange(): void }) {
  const { t } = useI18n();
  const [value, setValue] = useState('');
  const has = !!getToken();
  if (has)
    return (
      <div className="token-box">
        <span className="muted">{t('signedInAs')}</span>{' '}
        <button
          type="button"
          onClick={() => {
            setToken(null);
            onChange();
          }}
        >
          {t('signOut')}
        </button>
      </div>
    );
  return (
    <form
      className="token-box card"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) {
          setToken(value.trim());
          setValue('');
          onChange();
        }
      }}
    >
      <p>{t('needsToken')}</p>
      <label>
        {t('signIn')}{' '}
        <input type="password" value={value} onChange={(e) => setValue(e.target.value)} autoComplete="off" data-testid="token-input" placeholder={t('signInHelp')} />
      </label>{' '}
      <button type="submit">{t('save')}</button>
    </form>
  );
}

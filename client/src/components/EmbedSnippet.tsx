import { useState } from 'react';
import { useI18n } from '../lib/i18n.js';

export function EmbedSnippet({ area, contest }: { area: string; contest: string | null }) {
  const { t } = useI18n();
  const [kind, setKind] = useState<'map' | 'scoreboard'>('scoreboard');
  const [copied, setCopied] = useState(false);
  const q = new URLSearchParams({ area, ...(contest ? { contest } : {}) });
  const src = `${location.origin}/embed/${kind}?${q}`;
  const snippet = `<iframe src="${src}" width="100%" height="${kind === 'map' ? 480 : 360}" style="border:0" loading="lazy" title="rekap"></iframe>`;
  return (
    <details className="embed-snippet">
      <summary>{t('embed')}</summary>
      <div className="seg">
        <button type="button" aria-pressed={kind === 'scoreboard'} onClick={() => setKind('scoreboard')}>
          {t('embedScoreboard')}
        </button>
        <button type="button" aria-pressed={kind === 'map'} onClick={() => setKind('map')}>
          {t('embedMap')}
        </button>
      </div>
      <textarea readOnly value={snippet} rows={3} data-testid="embed-code" onFocus={(e) => e.currentTarget.select()} />
      <button
        type="button"
        onClick={() => {
          void navigator.clipboard?.writeText(snippet).then(() => setCopied(true));
        }}
      >
        {copied ? t('copied') : t('copy')}
      </button>
    </details>
  );
}

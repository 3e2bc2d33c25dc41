import { Link } from 'react-router-dom';
import type { AreaRef } from '../../../server/contract/index.js';
import { useI18n } from '../lib/i18n.js';

export function Breadcrumb({ path, current, search }: { path: AreaRef[]; current: AreaRef; search: string }) {
  const { t } = useI18n();
  return (
    <nav className="breadcrumb" aria-label="breadcrumb">
      <ol>
        {path.map((p) => (
          <li key={p.code}>
            <Link to={`/wilayah/${p.code}${search}`}>{p.code === '00' ? t('national') : p.name}</Link>
          </li>
        ))}
        <li aria-current="page">{current.code === '00' ? t('national') : current.name}</li>
      </ol>
    </nav>
  );
}

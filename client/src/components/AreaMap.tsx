import { useEffect, useRef } from 'react';
import L from 'leaflet';
import type { Feature, FeatureCollection } from 'geojson';
import 'leaflet/dist/leaflet.css';
import type { AreaFeature } from '../lib/geo.js';

export interface MapChild {
  code: string;
  name: string;
  lat: number | null;
  lon: number | null;
}

export interface AreaMapProps {
  /** Identifies what is drawn; a change of key redraws and refits. */
  areaCode: string;
  /** Polygons of the children, or null to draw them as points at their centroids. */
  shapes: AreaFeature[] | null;
  /** Outline of the area itself (drawn under the children, e.g. a desa holding TPS). */
  outline: AreaFeature | null;
  children: MapChild[];
  fills: Record<string, string>;
  selected?: string | null;
  tileUrl?: string | null;
  onHover?(code: string | null): void;
  onSelect?(code: string): void;
  /** Called once the layer for areaCode is on screen (after the browser painted it). */
  onPainted?(areaCode: string): void;
  interactive?: boolean;
}

const INDONESIA: L.LatLngBoundsExpression = [
  [-11.2, 94.8],
  [6.3, 141.2],
];
const hoverNone = '(hover: none)';

/**
 * A Leaflet choropleth of the children of one area, with no tile server (boundaries only) unless a
 * tile URL is configured. Layers are rebuilt only when the area changes; colour changes from live
 * deltas restyle the existing paths in place, so nothing on the page moves when numbers arrive.
 */
export function AreaMap(props: AreaMapProps) {
  const el = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const layer = useRef<L.GeoJSON | L.LayerGroup | null>(null);
  const outlineLayer = useRef<L.GeoJSON | null>(null);
  const byCode = useRef(new Map<string, L.Path>());
  const propsRef = useRef(props);
  propsRef.current = props;
  const tapped = useRef<string | null>(null);

  useEffect(() => {
    if (!el.current) return;
    const m = L.map(el.current, {
      zoomSnap: 0.25,
      attributionControl: true,
      zoomControl: props.interactive !== false,
      dragging: props.interactive !== false,
      scrollWheelZoom: props.interactive !== false,
      renderer: L.svg({ padding: 0.2 }),
    });
    m.attributionControl.setPrefix(false);
    m.attributionControl.addAttribution('Batas: cahyadsn/wilayah_boundaries (MIT)');
    m.fitBounds(INDONESIA);
    map.current = m;
    const ro = new ResizeObserver(() => m.invalidateSize());
    ro.observe(el.current);
    return () => {
      ro.disconnect();
      m.remove();
      map.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Rebuild the layers when the area (or its shapes) changes.
  useEffect(() => {
    const m = map.current;
    if (!m) return;
    layer.current?.remove();
    outlineLayer.current?.remove();
    byCode.current.clear();
    tapped.current = null;

    const styleFor = (code: string): L.PathOptions => {
      const p = propsRef.current;
      const sel = p.selected === code;
      return { fillColor: p.fills[code] ?? '#d9dde3', fillOpacity: 0.9, color: sel ? '#111' : '#ffffff', weight: sel ? 2.5 : 1, opacity: 1 };
    };
    const bind = (code: string, path: L.Path) => {
      byCode.current.set(code, path);
      path.on('mouseover', () => {
        path.setStyle({ weight: 2.5, color: '#111' });
        path.bringToFront();
        propsRef.current.onHover?.(code);
      });
      path.on('mouseout', () => {
        path.setStyle(styleFor(code));
        propsRef.current.onHover?.(null);
      });
      path.on('click', () => {
        // On touch screens the first tap shows the card, the second drills down.
        if (window.matchMedia?.(hoverNone).matches && tapped.current !== code) {
          tapped.current = code;
          propsRef.current.onHover?.(code);
          return;
        }
        propsRef.current.onSelect?.(code);
      });
    };

    if (props.outline) {
      outlineLayer.current = L.geoJSON(props.outline as Feature, {
        interactive: false,
        style: { fillColor: '#eef0f3', fillOpacity: 0.8, color: '#555', weight: 1.5 },
      }).addTo(m);
    }
    const known = new Set(props.children.map((c) => c.code));
    const shapes = props.shapes?.filter((f) => known.has(f.properties.code)) ?? null;
    if (shapes && shapes.length) {
      const gj = L.geoJSON({ type: 'FeatureCollection', features: shapes } as FeatureCollection, {
        style: (f) => styleFor((f?.properties as { code: string }).code),
        onEachFeature: (f, l) => bind((f.properties as { code: string }).code, l as L.Path),
      }).addTo(m);
      layer.current = gj;
    } else {
      // No polygons shipped for this level: one circle per child at its centroid.
      const group = L.layerGroup();
      for (const c of props.children) {
        if (c.lat == null || c.lon == null) continue;
        const circle = L.circleMarker([c.lat, c.lon], { radius: 9, ...styleFor(c.code), color: '#333', weight: 1 });
        bind(c.code, circle);
        group.addLayer(circle);
      }
      group.addTo(m);
      layer.current = group;
    }
    // Mark every path with its code: tests and assistive tools find areas without pixel hunting.
    for (const [code, path] of byCode.current) {
      const e = (path as unknown as { getElement?(): Element | undefined }).getElement?.();
      if (e) {
        e.setAttribute('data-code', code);
        e.setAttribute('aria-label', props.children.find((c) => c.code === code)?.name ?? code);
      }
    }
    performance.mark(`rekap:layer:${props.areaCode}`);
    let bounds: L.LatLngBounds | null = null;
    if (layer.current && 'getBounds' in layer.current && byCode.current.size) bounds = (layer.current as L.GeoJSON).getBounds();
    else if (byCode.current.size) bounds = L.latLngBounds([...byCode.current.values()].map((p) => (p as L.CircleMarker).getLatLng()));
    if (outlineLayer.current) bounds = bounds ? bounds.extend(outlineLayer.current.getBounds()) : outlineLayer.current.getBounds();
    if (bounds && bounds.isValid()) m.fitBounds(bounds, { padding: [12, 12], animate: false, maxZoom: 14 });
    else m.fitBounds(INDONESIA, { animate: false });

    const code = props.areaCode;
    el.current?.setAttribute('data-area', code);
    el.current?.setAttribute('data-painted', '');
    // Two frames: the first lets Leaflet lay out the SVG, the second runs after the browser painted.
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        if (propsRef.current.areaCode !== code) return;
        el.current?.setAttribute('data-painted', code);
        propsRef.current.onPainted?.(code);
      }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.areaCode, props.shapes, props.outline, props.children]);

  // Optional background tiles (REKAP_TILE_URL); offline by default, boundaries alone.
  useEffect(() => {
    const m = map.current;
    if (!m || !props.tileUrl) return;
    const tiles = L.tileLayer(props.tileUrl, { maxZoom: 18 }).addTo(m);
    tiles.bringToBack();
    return () => {
      tiles.remove();
    };
  }, [props.tileUrl]);

  // Live colour changes: restyle in place.
  useEffect(() => {
    for (const [code, path] of byCode.current) {
      const sel = props.selected === code;
      path.setStyle({ fillColor: props.fills[code] ?? '#d9dde3', color: sel ? '#111' : path instanceof L.CircleMarker ? '#333' : '#ffffff', weight: sel ? 2.5 : 1 });
    }
  }, [props.fills, props.selected]);

  return <div ref={el} className="area-map" role="region" aria-label="peta / map" />;
}

// The 3D view of a stored geometry with 3Dmol.js, loaded on first use: its code (~160 kB gzipped)
// is fetched only when a detail page opens, not with the rest of the dashboard.
import type { AtomRow } from '../../shared/contract/query.ts';

/** Length of the largest force arrow. */
const ARROW_ANGSTROM = 1.5;

export interface MoleculeView {
  /** Colours atoms by element (Jmol colours) or by partial charge (red negative, blue positive). */
  colourBy(mode: 'element' | 'charge'): void;
  /** Arrows along the forces (−gradient), scaled so the largest is 1.5 Å long. */
  showForces(on: boolean): void;
  dispose(): void;
}

export const hasWebGL = () => {
  const canvas = document.createElement('canvas');
  return !!(canvas.getContext('webgl2') ?? canvas.getContext('webgl'));
};

export async function showMolecule(el: HTMLElement, atoms: AtomRow[]): Promise<MoleculeView> {
  const $3Dmol = await import('3dmol');
  const viewer = $3Dmol.createViewer(el, { backgroundColor: 'white', antialias: true });
  const xyz = `${atoms.length}\n\n${atoms.map((a) => `${a.element} ${a.xyz_ang.join(' ')}`).join('\n')}\n`;
  viewer.addModel(xyz, 'xyz');
  const charges = atoms.map((a) => a.partial_charge_e ?? 0);
  const limit = Math.max(0.1, ...charges.map(Math.abs));
  let style: 'element' | 'charge' = 'element';
  const apply = () => {
    const colour = style === 'element'
      ? { colorscheme: 'Jmol' }
      : { colorfunc: (atom: { index?: number }) => chargeColour(charges[atom.index ?? 0] / limit) };
    viewer.setStyle({}, { stick: { radius: 0.14, ...colour }, sphere: { scale: 0.28, ...colour } });
    viewer.render();
  };
  const arrows: unknown[] = [];
  apply();
  viewer.zoomTo();
  viewer.zoom(1.15);
  viewer.render();
  const onResize = () => viewer.resize();
  window.addEventListener('resize', onResize);
  return {
    colourBy(mode) {
      style = mode;
      apply();
    },
    showForces(on) {
      for (const a of arrows.splice(0)) viewer.removeShape(a as never);
      if (on) {
        const forces = atoms.map((a) => (a.gradient_eh_bohr ? a.gradient_eh_bohr.map((g) => -g) : null));
        const largest = Math.max(1e-12, ...forces.map((f) => (f ? Math.hypot(...f) : 0))) / ARROW_ANGSTROM;
        atoms.forEach((a, i) => {
          const f = forces[i];
          if (!f || Math.hypot(...f) / largest < 0.05) return;
          const [x, y, z] = a.xyz_ang;
          arrows.push(viewer.addArrow({
            start: { x, y, z },
            end: { x: x + f[0] / largest, y: y + f[1] / largest, z: z + f[2] / largest },
            radius: 0.07, color: '#e8590c',
          }));
        });
      }
      viewer.render();
    },
    dispose() {
      window.removeEventListener('resize', onResize);
      viewer.clear();
    },
  };
}

/** Red (negative) through white to blue (positive), for a charge scaled to -1…1. */
function chargeColour(t: number): number {
  const k = Math.min(1, Math.abs(t));
  const fade = Math.round(255 * (1 - k));
  return t < 0 ? (0xff << 16) | (fade << 8) | fade : (fade << 16) | (fade << 8) | 0xff;
}

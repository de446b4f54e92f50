// Physical constants and unit conversions, written once (CODATA 2018, as used by xtb and ASE).
// Every conversion in the project goes through this file.

/** 1 Hartree in eV. */
export const HARTREE_EV = 27.211386245988;
/** 1 Bohr in Ångström. */
export const BOHR_ANGSTROM = 0.529177210903;
/** 1 e·Bohr (atomic unit of dipole) in Debye. */
export const AU_DEBYE = 2.541746473;
/** 1 Eh/Bohr in eV/Å. */
export const HARTREE_PER_BOHR_EV_PER_ANGSTROM = HARTREE_EV / BOHR_ANGSTROM;

export const bohrToAngstrom = (bohr: number): number => bohr * BOHR_ANGSTROM;
export const hartreeToEv = (eh: number): number => eh * HARTREE_EV;
/** The magnitude in Debye of a dipole vector in e·Bohr (xtb's `dipole_au`). */
export const dipoleDebye = (au: readonly number[]): number => Math.hypot(...au) * AU_DEBYE;
/** A dipole in e·Bohr expressed in e·Å (ASE's dipole unit). */
export const auDipoleToEAngstrom = (au: number): number => au * BOHR_ANGSTROM;
/** Force in eV/Å from a gradient component in Eh/Bohr (force = −gradient). */
export const gradientToForceEvA = (gradEhBohr: number): number =>
  -gradEhBohr * HARTREE_PER_BOHR_EV_PER_ANGSTROM;

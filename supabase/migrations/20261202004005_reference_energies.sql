-- Reference atom energies (E0) for releases (issue 19): the energy of each isolated, neutral atom
-- in its ground state, under the specification of the calculations that hold it, so that a
-- trainer (MACE reads them as IsolatedAtom frames) can subtract them.
--
-- Where they come from: an E0 is an ordinary calculation of the user's, a one-atom molecule with
-- charge 0 at the element's ground-state multiplicity, run by the real xtb through a batch the
-- runner works (`xtb atom.xyz --chrg 0 --uhf <multiplicity - 1>`), or uploaded. It is stored once
-- per specification by the identity key of calculations (user, molecule, specification, charge,
-- multiplicity, geometry): no second table to keep in step with the first.
--
-- Per user, like everything else: an E0 is the caller's own calculation, found under row-level
-- security; nobody reads another user's atoms.
--
-- When a release is sealed, public.seal_release (…4010_release_functions) writes into its manifest
-- the E0 found for every (specification, element) its members hold, and the pairs still missing.
-- The values are copied into the manifest, so the release stays frozen even if the atom's
-- calculation is deleted later: the profile=mace export writes its IsolatedAtom frames from the
-- manifest, not from the calculations. A release asked for with `reference_energies: true` is
-- refused (409, naming each missing atom) until every pair has one.

-- ---------------------------------------------------------------------------------------------
-- element_ground_multiplicity
-- ---------------------------------------------------------------------------------------------
create function public.element_ground_multiplicity(p_element text)
  returns integer
  language sql immutable strict parallel safe set search_path = ''
as $$
  -- Hund's rules on the outer s and p shells of the main-group elements (and the closed-shell
  -- group 12): s1 2, s2 1, p1 2, p2 3, p3 4, p4 3, p5 2, p6 1. Transition metals, lanthanides and
  -- actinides are left out (null): their atomic ground states are not settled by a rule, and an E0
  -- at a guessed multiplicity would be wrong without saying so.
  select g.multiplicity
    from (values ('H', 2), ('He', 1),
                 ('Li', 2), ('Be', 1), ('B', 2), ('C', 3), ('N', 4), ('O', 3), ('F', 2), ('Ne', 1),
                 ('Na', 2), ('Mg', 1), ('Al', 2), ('Si', 3), ('P', 4), ('S', 3), ('Cl', 2), ('Ar', 1),
                 ('K', 2), ('Ca', 1), ('Zn', 1), ('Ga', 2), ('Ge', 3), ('As', 4), ('Se', 3), ('Br', 2), ('Kr', 1),
                 ('Rb', 2), ('Sr', 1), ('Cd', 1), ('In', 2), ('Sn', 3), ('Sb', 4), ('Te', 3), ('I', 2), ('Xe', 1),
                 ('Cs', 2), ('Ba', 1), ('Hg', 1), ('Tl', 2), ('Pb', 3), ('Bi', 4), ('Po', 3), ('At', 2), ('Rn', 1))
         as g(element, multiplicity)
   where g.element = p_element
$$;

comment on function public.element_ground_multiplicity(text) is
  'The ground-state spin multiplicity (2S+1) of the isolated neutral atom of a main-group element, '
  'null for elements without a rule here (transition metals, lanthanides, actinides).';

-- ---------------------------------------------------------------------------------------------
-- reference_atom_energies
-- ---------------------------------------------------------------------------------------------
-- p_specification_ids and p_elements are read pairwise: the (specification, element) pairs a
-- release holds.
create function public.reference_atom_energies(p_specification_ids uuid[], p_elements text[])
  returns jsonb
  language sql stable set search_path = ''
as $$
  -- {atoms: [{specification, element, multiplicity, energy_eh, calculation_id}],
  --  missing: [{specification, spec, element, multiplicity}]}, each ordered by specification hash
  -- and element. One probe per pair: the caller's one-atom molecules of that formula
  -- (molecules_user_id_formula_idx), then their calculations under the specification
  -- (calculations_identity_key). Of several geometries of the same atom (same energy), the first
  -- stored is taken, so the answer does not change as more arrive.
  with pairs as (
    select distinct k.specification_id, k.element
      from unnest(p_specification_ids, p_elements) as k(specification_id, element)
  ), found as (
    select s.spec_hash, s.spec, p.element, public.element_ground_multiplicity(p.element) as multiplicity,
           e.calculation_id, e.total_energy_eh
      from pairs p
      join public.specifications s on s.id = p.specification_id
      left join lateral (
        select c.id as calculation_id, c.total_energy_eh
          from public.molecules m
          join public.calculations c on c.user_id = m.user_id and c.molecule_id = m.id
         where m.user_id = (select auth.uid()) and m.formula = p.element and m.n_atoms = 1
           and c.specification_id = p.specification_id and c.status = 'completed'
           and c.charge = 0 and c.multiplicity = public.element_ground_multiplicity(p.element)
           and c.total_energy_eh is not null
         order by c.created_at, c.id
         limit 1) e on true
  )
  select jsonb_build_object(
           'atoms', coalesce(jsonb_agg(jsonb_build_object(
               'specification', f.spec_hash, 'element', f.element, 'multiplicity', f.multiplicity,
               'energy_eh', f.total_energy_eh, 'calculation_id', f.calculation_id)
             order by f.spec_hash, f.element) filter (where f.calculation_id is not null), '[]'),
           'missing', coalesce(jsonb_agg(jsonb_build_object(
               'specification', f.spec_hash, 'spec', f.spec, 'element', f.element, 'multiplicity', f.multiplicity)
             order by f.spec_hash, f.element) filter (where f.calculation_id is null), '[]'))
    from found f
$$;

comment on function public.reference_atom_energies(uuid[], text[]) is
  'The caller''s isolated-atom energies (E0: one-atom molecule, charge 0, ground-state multiplicity, completed) '
  'for each (specification, element) pair, and the pairs that have none.';

-- ---------------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------------
revoke all on function public.element_ground_multiplicity(text),
                       public.reference_atom_energies(uuid[], text[])
  from public, anon, authenticated;
grant execute on function public.element_ground_multiplicity(text),
                          public.reference_atom_energies(uuid[], text[])
  to qf_api;

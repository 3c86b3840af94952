/**
 * Which `siteGroups` keys belong to which source: LDAP groups are DNs, Entra groups are object ids (GUIDs). With
 * several sources (AD and Entra ID) one `siteGroups` table holds both, and each source answers for its own keys.
 */

/** Entra object ids (groups, apps, tenants) are GUIDs. */
export const OBJECT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function siteGroupKeysFor(sourceType: string, keys: readonly string[]): string[] {
  const isObjectId = (key: string) => OBJECT_ID_PATTERN.test(key.trim());
  return keys.filter((key) => (sourceType === "entra" ? isObjectId(key) : !isObjectId(key)));
}

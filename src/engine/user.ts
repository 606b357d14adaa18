// Resolves Docker's --user ("name", "uid", "name:group", "uid:gid") against the image's /etc/passwd and /etc/group.
import { InvalidParameterError } from '../errdefs';
import { parseGroup, parsePasswd } from '../wire/passwd';

export interface ResolvedUser { uid: number; gid: number; additionalGids: number[]; home: string }

const isNumeric = (s: string) => /^\d+$/.test(s);

export function resolveUser(spec: string, passwdText: string | undefined, groupText: string | undefined, groupAdd: string[] = []): ResolvedUser {
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  const [userPart = '', groupPart] = (spec || '').split(':', 2);
  let uid = 0;
  let gid = 0;
  let home = '/';
  let name: string | undefined;
  if (userPart === '' || isNumeric(userPart)) {
    // No user means root; a number need not be in passwd (then gid 0 and HOME=/, as libcontainer's defaults).
    uid = userPart === '' ? 0 : Number(userPart);
    const entry = passwd.find((p) => p.uid === uid);
    if (entry) { gid = entry.gid; home = entry.home; name = entry.name; }
  } else {
    const entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw new InvalidParameterError(`unable to find user ${userPart}: no matching entries in passwd file`);
    uid = entry.uid; gid = entry.gid; home = entry.home; name = entry.name;
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (isNumeric(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new InvalidParameterError(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  // moby's getUser: the primary group first (so setgroups never drops it), then the groups listing the user
  // by name (only when no group was given), then --group-add.
  const additional = new Set<number>([gid]);
  if (name && (groupPart === undefined || groupPart === '')) {
    for (const g of groups) if (g.members.includes(name)) additional.add(g.gid);
  }
  for (const ga of groupAdd) {
    if (isNumeric(ga)) additional.add(Number(ga));
    else {
      const g = groups.find((x) => x.name === ga);
      if (!g) throw new InvalidParameterError(`Unable to find group ${ga}: no matching entries in group file`);
      additional.add(g.gid);
    }
  }
  return { uid, gid, additionalGids: [...additional], home };
}

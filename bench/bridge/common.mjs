// Shared by the bridge benchmark's worker and peer scripts.
export const num = (name, dflt) => Number(process.env[name] ?? dflt);
export const MIB = 1024 * 1024;
export const out = (o) => console.log(JSON.stringify(o));

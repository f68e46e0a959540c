/** The tenant created by the first migration; SDK calls without a tenant use it. */
export const DEFAULT_TENANT_ID = '00000000-0000-7000-8000-000000000001';
